import Prometheus

/// The server's Prometheus metrics (GET /metrics, text format 0.0.4): requests by endpoint and
/// status, request latency by endpoint, the sizes of the generate calls the batcher formed, and
/// images generated.
public final class ServeMetrics: @unchecked Sendable {
  public let registry = PrometheusCollectorRegistry()
  /// Endpoint labels: the routes, and "other" for every unknown path (bounded cardinality).
  public static let endpoints = ["/", "/image.png", "/grid.png", "/interpolate.png", "/model", "/healthz",
                                 "/metrics"]
  private let batchSizes: ValueHistogram
  private let images: Counter

  public init() {
    batchSizes = registry.makeValueHistogram(
      descriptor: .init(metricName: "gan_serve_batch", unitName: "size", helpText: "Images per generate call formed by batching."),
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096])
    images = registry.makeCounter(descriptor: .init(metricName: "gan_serve_images_generated", unitName: "total",
                                                    helpText: "Images generated."))
  }

  public static func endpoint(_ path: String) -> String { endpoints.contains(path) ? path : "other" }

  public func recordBatch(_ n: Int) {
    batchSizes.record(Double(n))
    images.increment(by: Int64(n))
  }

  public func recordRequest(endpoint: String, status: Int, seconds: Double) {
    registry.makeCounter(descriptor: ServeMetrics.requests,
                         labels: [("endpoint", endpoint), ("status", String(status))]).increment()
    registry.makeDurationHistogram(descriptor: ServeMetrics.latency, labels: [("endpoint", endpoint)],
                                   buckets: ServeMetrics.latencyBuckets).record(.nanoseconds(Int64(seconds * 1e9)))
  }

  static let requests = MetricNameDescriptor(metricName: "gan_serve_requests", unitName: "total",
                                              helpText: "HTTP requests by endpoint and status.")
  static let latency = MetricNameDescriptor(metricName: "gan_serve_request_duration", unitName: "seconds",
                                             helpText: "Request latency, from routing to the response.")
  static let latencyBuckets: [Duration] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5]
    .map { .nanoseconds(Int64($0 * 1e9)) }

  /// The text exposition.
  public func text() -> String { registry.emitToString() }
}
