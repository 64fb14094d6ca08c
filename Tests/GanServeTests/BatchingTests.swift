import Foundation
import GanModel
import GanRuntime
import GanServe
import GanTestSupport
import Hummingbird
import HummingbirdTesting
import XCTest

/// Collects the batch sizes the batcher reports.
final class BatchLog: @unchecked Sendable {
  private let lock = NSLock()
  private var sizes: [Int] = []
  func add(_ n: Int) { lock.lock(); sizes.append(n); lock.unlock() }
  var all: [Int] { lock.lock(); defer { lock.unlock() }; return sizes }
}

final class BatchingTests: XCTestCase {
  func latents(_ nz: Int, seed: UInt64, index: Int) -> [Float] {
    var z = [Float](repeating: 0, count: nz)
    z.withUnsafeMutableBufferPointer { latent(seed: seed, index: index, into: $0.baseAddress!, nz: nz) }
    return z
  }

  /// 24 concurrent single-image requests are gathered into few calls of up to maxBatch, and each
  /// gets the pixels it gets alone (batch 1, no batching).
  func testConcurrentRequestsAreBatchedAndKeepTheirPixels() async throws {
    let generator = try openGenerator(path: g64Path, maxBatch: 16, threads: 2)
    let log = BatchLog()
    let batcher = BatchingGenerator(generator: generator, options: .init(maxBatch: 16, maxWait: 0.2),
                                    onBatch: { log.add($0) })
    defer { batcher.shutdown() }
    let nz = generator.architecture.nz
    let results = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
      for i in 0..<24 {
        let z = latents(nz, seed: 3, index: i)
        group.addTask { (i, try await batcher.generate(latents: z, count: 1)) }
      }
      var out = [[UInt8]](repeating: [], count: 24)
      for try await (i, pixels) in group { out[i] = pixels }
      return out
    }
    XCTAssertEqual(log.all.reduce(0, +), 24)
    XCTAssertLessThanOrEqual(log.all.max() ?? 0, 16)
    XCTAssertLessThanOrEqual(log.all.count, 4, "batches formed: \(log.all)")
    let alone = BatchingGenerator(generator: try openGenerator(path: g64Path, maxBatch: 1, threads: 1),
                                  options: .init(maxBatch: 1, maxWait: 0))
    defer { alone.shutdown() }
    for i in [0, 7, 23] {
      let single = try await alone.generate(latents: latents(nz, seed: 3, index: i), count: 1)
      XCTAssertEqual(results[i], single, "image \(i)")
    }
  }

  /// A request larger than maxBatch runs in several calls and comes back whole, in order.
  func testLargeRequestRunsInChunks() async throws {
    let generator = try openGenerator(path: g64Path, maxBatch: 4, threads: 2)
    let log = BatchLog()
    let batcher = BatchingGenerator(generator: generator, options: .init(maxBatch: 4, maxWait: 0),
                                    onBatch: { log.add($0) })
    defer { batcher.shutdown() }
    let nz = generator.architecture.nz, per = generator.imageElements
    var z: [Float] = []
    for i in 0..<10 { z += latents(nz, seed: 9, index: i) }
    let pixels = try await batcher.generate(latents: z, count: 10)
    XCTAssertEqual(log.all, [4, 4, 2])
    let ninth = try await batcher.generate(latents: latents(nz, seed: 9, index: 9), count: 1)
    XCTAssertEqual(Array(pixels[(9 * per)...]), ninth)
  }

  /// With the worker busy and the queue at its limit, the next request gets 503 with Retry-After
  /// and a one-line error; queued requests still complete.
  func testFullQueueGives503() async throws {
    let generator = BlockingGenerator()
    let server = GanServer(generator: generator, modelBytes: [1, 2, 3],
                           options: .init(maxBatch: 4, maxWait: 0, queueLimit: 2))
    defer { server.batcher.shutdown() }
    let first = Task { try await server.batcher.generate(latents: [0, 0, 0, 0], count: 1) }
    generator.entered.wait()  // the worker is inside generate with the first request
    let queued = (0..<2).map { _ in Task { try await server.batcher.generate(latents: [0, 0, 0, 0], count: 1) } }
    while server.batcher.queued < 2 { try await Task.sleep(nanoseconds: 1_000_000) }
    try await withClient(server) { client in
      let r = try await client.execute(uri: "/image.png?seed=1", method: .get)
      XCTAssertEqual(r.status, .serviceUnavailable)
      XCTAssertEqual(r.headers[.retryAfter], "1")
      XCTAssertEqual(r.text, "{\"error\":\"busy: 2 images are queued (limit 2); retry shortly\"}\n")
    }
    generator.release.signal()
    generator.entered.wait()
    generator.release.signal()  // the two queued requests run as one batch
    var results = [try await first.value]
    for task in queued { results.append(try await task.value) }
    XCTAssertEqual(results.map { $0.count }, [1024, 1024, 1024])
    XCTAssertEqual(results[2].first, 7)
  }

  /// After shutdown, requests are refused with .stopped.
  func testShutdownRefusesNewRequests() async throws {
    let batcher = BatchingGenerator(generator: try openGenerator(path: g64Path, maxBatch: 2, threads: 1),
                                    options: .init(maxBatch: 2))
    batcher.shutdown()
    do {
      _ = try await batcher.generate(latents: [Float](repeating: 0, count: 32), count: 1)
      XCTFail("expected .stopped")
    } catch {
      XCTAssertEqual(error, .stopped)
    }
  }
}
