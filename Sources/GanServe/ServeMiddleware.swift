import Hummingbird

/// Around every route (and the not-found responder): turns every failure into a ServeError (so
/// every error body is one JSON line: 404 for unknown paths and methods, 500 for anything
/// unexpected) and records the request's endpoint, status and latency in the metrics.
struct ServeMiddleware<Context: RequestContext>: RouterMiddleware {
  let metrics: ServeMetrics

  func handle(_ request: Request, context: Context,
              next: (Request, Context) async throws -> Response) async throws -> Response {
    let start = ContinuousClock.now
    let endpoint = ServeMetrics.endpoint(request.uri.path)
    func record(_ status: HTTPResponse.Status) {
      let d = ContinuousClock.now - start
      let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
      metrics.recordRequest(endpoint: endpoint, status: status.code, seconds: seconds)
    }
    do {
      let response = try await next(request, context)
      record(response.status)
      return response
    } catch let error as ServeError {
      record(error.status)
      throw error
    } catch let error as HTTPError where error.status == .notFound {
      let refusal = ServeError(.notFound, "\(request.method) \(Query.shown(request.uri.path)): not found (the " +
                               "server answers GET " + ServeMetrics.endpoints.joined(separator: ", ") + ")")
      record(refusal.status)
      throw refusal
    } catch {
      let failure = ServeError(.internalServerError, "\(error)")
      record(failure.status)
      throw failure
    }
  }
}
