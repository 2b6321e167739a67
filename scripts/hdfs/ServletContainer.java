// Stand-in for Jersey 1's servlet, which Hadoop 2.7.3's NameNode web server
// names (for WebHDFS) but which is not among the jars we ship. Only its
// presence matters: the NameNode RPC port is what Lakeshore uses; every web
// request this servlet would serve answers 501 Not Implemented.
package com.sun.jersey.spi.container.servlet;

import java.io.IOException;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

public class ServletContainer extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    resp.sendError(HttpServletResponse.SC_NOT_IMPLEMENTED, "WebHDFS is not available (Lakeshore test HDFS)");
  }
}
