import GanModel
import Hummingbird

/// A refused request: its status and a one-line reason, sent as `{"error":"..."}` plus a newline
/// (503 also carries Retry-After).
public struct ServeError: HTTPResponseError, Equatable, CustomStringConvertible {
  public let status: HTTPResponse.Status
  public let message: String
  /// Seconds, for 503.
  public let retryAfter: Int?

  public init(_ status: HTTPResponse.Status, _ message: String, retryAfter: Int? = nil) {
    self.status = status; self.message = message; self.retryAfter = retryAfter
  }

  public var description: String { "\(status.code) \(message)" }

  /// The body: one JSON line.
  public var body: String { JSON.object([("error", .string(message))]).serialized + "\n" }

  public func response(from request: Request, context: some RequestContext) throws -> Response {
    var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]
    if let retryAfter { headers[.retryAfter] = String(retryAfter) }
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
  }
}
