import Foundation
import GanImage
import GanModel
import GanRuntime
import Hummingbird

/// gan-serve's endpoints over one generator:
///   GET /                 the page (Page.html)
///   GET /image.png        ?seed=S&index=I[&size=N]: gan-gen's image I of seed S
///   GET /grid.png         ?seed=S&count=N&columns=C[&size=N]: images 0..<N of seed S
///   GET /interpolate.png  ?from=S1:I1&to=S2:I2&steps=N&mode=slerp|linear[&frame=K][&size=N]
///   GET /model            JSON: architecture, dtype, classes, limits
///   GET /healthz          JSON {"status":"ok"}
///   GET /metrics          Prometheus text
/// Images are deterministic, so PNG responses carry an ETag (model file and canonical request)
/// and answer If-None-Match with 304 without generating.
public final class GanServer: @unchecked Sendable {
  public let batcher: BatchingGenerator
  public let metrics: ServeMetrics
  public let parser: ServeRequestParser
  /// "fp32" or "int8".
  public let dtype: String
  /// The model file's bytes (Fingerprint): part of every ETag.
  public let modelDigest: Fingerprint

  public init(generator: ImageGenerator, modelBytes: [UInt8], options: BatchingGenerator.Options,
              classes: [String] = []) {
    let metrics = ServeMetrics()
    self.metrics = metrics
    batcher = BatchingGenerator(generator: generator, options: options, onBatch: { metrics.recordBatch($0) })
    parser = ServeRequestParser(architecture: generator.architecture, classes: classes)
    dtype = generator is Int8GeneratorRuntime ? "int8" : "fp32"
    var digest = Fingerprint()
    digest.add(bytes: modelBytes)
    modelDigest = digest
  }

  /// Opens `path` (fp32 or int8 safetensors) and plans it for `options.maxBatch` images per call.
  public convenience init(modelPath: String, threads: Int, options: BatchingGenerator.Options,
                          winograd: Bool = false) throws(GanError) {
    let generator = try openGenerator(path: modelPath, maxBatch: options.maxBatch, threads: threads,
                                      winograd: winograd)
    self.init(generator: generator, modelBytes: try readMaybeGzip(path: modelPath), options: options,
              classes: generator.classNames)
  }

  public func makeRouter() -> Router<BasicRequestContext> {
    let router = Router(options: .autoGenerateHeadEndpoints)
    router.add(middleware: ServeMiddleware(metrics: metrics))
    router.get("/") { _, _ in
      Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
               body: .init(byteBuffer: ByteBuffer(string: Page.html)))
    }
    router.get("/image.png") { request, _ in
      try await self.respondPNG(request) { q throws(ServeError) in try self.parser.image(q) }
    }
    router.get("/grid.png") { request, _ in
      try await self.respondPNG(request) { q throws(ServeError) in try self.parser.grid(q) }
    }
    router.get("/interpolate.png") { request, _ in
      try await self.respondPNG(request) { q throws(ServeError) in try self.parser.interpolation(q) }
    }
    router.get("/model") { _, _ in
      Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache"],
               body: .init(byteBuffer: ByteBuffer(string: self.modelJSON.serialized + "\n")))
    }
    router.get("/healthz") { _, _ in
      Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
               body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}\n")))
    }
    router.get("/metrics") { _, _ in
      Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4", .cacheControl: "no-store"],
               body: .init(byteBuffer: ByteBuffer(string: self.metrics.text())))
    }
    return router
  }

  /// What GET /model answers.
  public var modelJSON: JSON {
    let a = parser.architecture
    return .object([
      ("architecture", a.jsonValue), ("dtype", .string(dtype)), ("imageSize", .number(Double(a.imageSize))),
      ("channels", .number(Double(a.nc))), ("classes", .array(parser.classes.map { .string($0) })),
      ("maxBatch", .number(Double(batcher.options.maxBatch))), ("kernels", .string(batcher.generator.kernelDescription)),
      ("limits", .object([
        ("maxIndex", .number(Double(ServeLimits.maxIndex))), ("maxGridCount", .number(Double(ServeLimits.maxGridCount))),
        ("maxColumns", .number(Double(ServeLimits.maxColumns))),
        ("maxInterpolationSteps", .number(Double(ServeLimits.maxInterpolationSteps))),
        ("minSize", .number(Double(ServeLimits.minSize))), ("maxSize", .number(Double(ServeLimits.maxSize))),
        ("maxImagePixels", .number(Double(ServeLimits.maxImagePixels))),
      ])),
    ])
  }

  /// The ETag of a request's response: model digest and canonical request.
  public func etag(_ request: ServeRequest) -> String {
    var h = modelDigest
    h.add(request.key)
    return "\"" + h.hex + "\""
  }

  private func respondPNG(_ request: Request,
                          parse: ([(String, String)]) throws(ServeError) -> ServeRequest) async throws -> Response {
    let query = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
    let parsed = try parse(query)
    let tag = etag(parsed)
    var headers: HTTPFields = [.eTag: tag, .cacheControl: "public, max-age=3600"]
    if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: {
      $0.trimmingCharacters(in: .whitespaces) == tag || $0.trimmingCharacters(in: .whitespaces) == "*"
    }) {
      return Response(status: .notModified, headers: headers)
    }
    let png = try await render(parsed)
    headers[.contentType] = "image/png"
    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: png)))
  }

  /// The PNG bytes of a parsed request.
  public func render(_ request: ServeRequest) async throws -> [UInt8] {
    let a = parser.architecture, nz = a.nz
    let source: LatentSource, columns: Int, size: Int
    switch request {
    case let .image(seed, index, s, _):
      (source, columns, size) = (.seed(seed, firstIndex: index, count: 1), 1, s)
    case let .grid(seed, n, cols, s, _):
      (source, columns, size) = (.seed(seed, firstIndex: 0, count: n), cols, s)
    case let .interpolation(from, to, steps, slerp, frame, s, _):
      let walk = LatentSource.interpolation(from: LatentSource.seed(from.0, firstIndex: from.1, count: 1).latents(nz: nz),
                                            to: LatentSource.seed(to.0, firstIndex: to.1, count: 1).latents(nz: nz),
                                            steps: steps, slerp: slerp)
      // One frame: that step of the walk alone.
      source = frame.map { .rows(walk.latents(nz: nz, first: $0, count: 1), count: 1) } ?? walk
      (columns, size) = (source.count, s)
    }
    let count = source.count
    let pixels = try await generate(source.latents(nz: nz), labels: request.label.map { [Int32](repeating: Int32($0), count: count) },
                                    count: count)
    return try ServerImages.png(pixels: pixels, count: count, modelSize: a.imageSize, channels: a.nc, size: size,
                                columns: columns)
  }

  private func generate(_ latents: [Float], labels: [Int32]?, count: Int) async throws(ServeError) -> [UInt8] {
    do {
      return try await batcher.generate(latents: latents, labels: labels, count: count)
    } catch {
      switch error {
      case .queueFull(let queued, let limit):
        throw ServeError(.serviceUnavailable, "busy: \(queued) images are queued (limit \(limit)); retry shortly",
                         retryAfter: 1)
      case .stopped: throw ServeError(.serviceUnavailable, "the server is shutting down", retryAfter: 5)
      }
    }
  }
}
