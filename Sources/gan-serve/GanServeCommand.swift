import ArgumentParser
import GanCommandLine
import GanModel
import GanServe
import Hummingbird
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The entry point: usage errors as one line (exit 64).
@main
enum GanServeMain {
  static func main() async { await OneLineErrors.main(GanServeCommand.self) }
}

/// gan-serve: flags, then GanServer on Hummingbird until SIGINT/SIGTERM (graceful shutdown).
struct GanServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gan-serve",
    abstract: "Serve a DCGAN or SAGAN generator over HTTP: a page that generates images, and PNG endpoints.",
    discussion: """
    Endpoints (GET): / (the page), /image.png?seed=S&index=I[&size=N] (the same pixels gan-gen gives \
    for image I of seed S), /grid.png?seed=S&count=N&columns=C[&size=N], \
    /interpolate.png?from=S1:I1&to=S2:I2&steps=N&mode=slerp|linear[&frame=K][&size=N], /model (JSON), \
    /healthz, /metrics (Prometheus text). PNGs carry an ETag and answer If-None-Match with 304.
    A conditional model takes &class=K (an index or a class name; default 0) on every PNG endpoint.
    Limits: index 0 to \(ServeLimits.maxIndex), grid count 1 to \(ServeLimits.maxGridCount), columns 1 to \
    \(ServeLimits.maxColumns), interpolation steps 2 to \(ServeLimits.maxInterpolationSteps), size \
    \(ServeLimits.minSize) to \(ServeLimits.maxSize) px, any grid or strip at most \
    \(ServeLimits.maxImagePixels) pixels. Bad parameters get 400, unknown paths 404, a full queue 503 with \
    Retry-After; each with a one-line JSON error.
    Concurrent requests are batched: up to --max-batch images per generator call, the first request \
    waiting at most --max-wait-ms for others.
    Examples:
      gan-serve --model out/generator.safetensors
      gan-serve --model g.int8.safetensors --host 0.0.0.0 --port 8080 --threads 4
    """)

  @Option(help: "Generator safetensors: fp32 (gan-train or PyTorch) or int8 (gan-quant).")
  var model: String

  @Option(help: "Address to listen on (default: loopback only; 0.0.0.0 for every interface).")
  var host: String = "127.0.0.1"

  @Option(help: "TCP port, 0 to 65535 (0: any free port; the port is printed).")
  var port: Int = 8080

  @Option(help: "Compute threads, 1 to 1024 (default: all cores). Images do not depend on it.")
  var threads: Int?

  @Option(help: "Images per generator call, 1 to 1024 (1 turns batching off). Memory is planned for this size.")
  var maxBatch: Int = 64

  @Option(help: "Milliseconds the first queued request waits for others to join its batch, 0 to 1000.")
  var maxWaitMs: Double = 2

  @Option(help: """
            Images waiting, at most, 1 to 1000000; a request that would go over it gets 503 with Retry-After \
            (a request arriving at an empty queue always runs).
            """)
  var queueLimit: Int = 1024

  @Flag(help: "Winograd deconvolutions, as gan-gen --winograd.")
  var winograd = false

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port \(port): expected 0 to 65535") }
    if let t = threads { try checkFlag("threads", t, FlagRange.threads) }
    guard (1...1024).contains(maxBatch) else { throw ValidationError("--max-batch \(maxBatch): expected 1 to 1024") }
    guard maxWaitMs.isFinite, (0...1000).contains(maxWaitMs) else {
      throw ValidationError("--max-wait-ms \(maxWaitMs): expected 0 to 1000")
    }
    guard (1...1_000_000).contains(queueLimit) else {
      throw ValidationError("--queue-limit \(queueLimit): expected 1 to 1000000")
    }
  }

  func run() async throws {
    let server: GanServer
    do {
      server = try GanServer(modelPath: model, threads: threads ?? max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))),
                             options: .init(maxBatch: maxBatch, maxWait: maxWaitMs / 1000, queueLimit: queueLimit),
                             winograd: winograd)
    } catch {
      fputs("gan-serve: \(error)\n", stderr)
      throw ExitCode(1)
    }
    let a = server.parser.architecture
    let app = Application(
      router: server.makeRouter(),
      configuration: .init(address: .hostname(host, port: port), serverName: "gan-serve"),
      onServerRunning: { channel in
        let bound = channel.localAddress?.port ?? port
        print("gan-serve: \(server.dtype) \(a.imageSize) px model \(model), max batch \(server.batcher.options.maxBatch); " +
              "listening on http://\(host):\(bound)/")
        fflush(stdout)
      })
    do {
      try await app.runService()
    } catch {
      fputs("gan-serve: \(error)\n", stderr)
      throw ExitCode(1)
    }
    server.batcher.shutdown()
  }
}
