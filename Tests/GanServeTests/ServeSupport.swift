import Foundation
import GanModel
import GanRuntime
import GanServe
import GanTestSupport
import Hummingbird
import HummingbirdTesting
import XCTest

/// The 64 px RGB fixture generator of the runtime tests (nz 32, ngf 8).
let g64Path = String(#filePath[..<#filePath.lastIndex(of: "/")!]) + "/../GanRuntimeTests/Fixtures/g64.safetensors"

func makeServer(maxBatch: Int = 16, maxWait: Double = 0.002, queueLimit: Int = 1024) throws -> GanServer {
  try GanServer(modelPath: g64Path, threads: 2, options: .init(maxBatch: maxBatch, maxWait: maxWait,
                                                               queueLimit: queueLimit))
}

/// Runs `body` against the server's router (HummingbirdTesting, no sockets).
func withClient<T>(_ server: GanServer, _ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
  let app = Application(router: server.makeRouter())
  return try await app.test(.router, body)
}

extension TestResponse {
  var bytes: [UInt8] { Array(body.readableBytesView) }
  var text: String { String(buffer: body) }
}

/// Width and height from a PNG's IHDR.
func pngSize(_ png: [UInt8]) -> (Int, Int)? {
  guard png.count > 24, png[0..<8] == [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] else { return nil }
  func be32(_ o: Int) -> Int { png[o..<(o + 4)].reduce(0) { $0 << 8 | Int($1) } }
  return (be32(16), be32(20))
}

/// An ImageGenerator that blocks in `generate` until `release` is signalled (queue tests).
final class BlockingGenerator: ImageGenerator, @unchecked Sendable {
  let architecture = try! Architecture(imageSize: 32, nz: 4, ngf: 8, ndf: 8, nc: 1)
  let maxBatch = 4
  let threads = 1
  var imageElements: Int { 32 * 32 }
  let kernelDescription = "blocking test generator"
  let classNames: [String] = []
  let entered = DispatchSemaphore(value: 0)
  let release = DispatchSemaphore(value: 0)

  func generate(latents: UnsafePointer<Float>, labels: UnsafePointer<Int32>?, count: Int,
                output: UnsafeMutablePointer<Float>?, pixels: UnsafeMutablePointer<UInt8>?) {
    entered.signal()
    release.wait()
    pixels?.update(repeating: 7, count: count * imageElements)
  }
}
