import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GanTestSupport
import XCTest

final class CommandLineTests: ScratchDirectoryTestCase {
  func testHelpExplainsEveryFlag() throws {
    let r = try Executables.run("gan-serve", ["--help"])
    XCTAssertEqual(r.status, 0)
    for flag in ["--model", "--host", "--port", "--threads", "--max-batch", "--max-wait-ms", "--queue-limit",
                 "--winograd", "/image.png", "/metrics", "Retry-After"] {
      XCTAssertTrue(r.out.contains(flag), flag)
    }
  }

  /// Out-of-range numbers are usage errors (exit 64, one line naming the flag); a bad model file
  /// is exit 1 naming the file.
  func testBadFlagsAndModel() throws {
    for (args, flag) in [(["--threads", "100000"], "--threads"), (["--max-batch", "0"], "--max-batch"),
                         (["--port", "70000"], "--port"), (["--max-wait-ms", "nan"], "--max-wait-ms"),
                         (["--queue-limit", "-1"], "--queue-limit")] {
      let r = try Executables.run("gan-serve", ["--model", g64Path] + args)
      XCTAssertEqual(r.status, 64, "\(args): \(r.err)")
      XCTAssertTrue(r.err.contains(flag), r.err)
    }
    let missing = try Executables.run("gan-serve", ["--model", dir + "/none.safetensors"])
    XCTAssertEqual(missing.status, 1)
    XCTAssertTrue(missing.err.hasPrefix("gan-serve: \(dir)/none.safetensors: "), missing.err)
    XCTAssertEqual(missing.err.split(separator: "\n").count, 1, missing.err)
  }

  /// Started on a free loopback port, it prints the port, answers, and exits 0 on SIGTERM.
  func testServesOnLoopbackAndStopsOnSIGTERM() throws {
    let (p, out, _) = try Executables.launch("gan-serve", ["--model", g64Path, "--port", "0", "--threads", "1"])
    defer { if p.isRunning { p.terminate() } }
    var text = ""
    let deadline = Date().addingTimeInterval(20)
    while !text.contains("listening on http://127.0.0.1:") && Date() < deadline {
      let chunk = out.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      text += String(decoding: chunk, as: UTF8.self)
    }
    let port = try XCTUnwrap(text.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) }, text)
    let url = URL(string: "http://127.0.0.1:\(port)/image.png?seed=1&index=0")!
    let done = DispatchSemaphore(value: 0)
    final class Reply: @unchecked Sendable { var status = 0; var body = Data() }
    let reply = Reply()
    URLSession.shared.dataTask(with: url) { data, response, _ in
      reply.status = (response as? HTTPURLResponse)?.statusCode ?? 0
      reply.body = data ?? Data()
      done.signal()
    }.resume()
    XCTAssertEqual(done.wait(timeout: .now() + 20), .success)
    XCTAssertEqual(reply.status, 200)
    XCTAssertEqual(Array(reply.body.prefix(4)), [0x89, 0x50, 0x4e, 0x47])
    p.terminate()
    let stopped = Date().addingTimeInterval(10)
    while p.isRunning && Date() < stopped { usleep(20_000) }
    XCTAssertFalse(p.isRunning, "still running 10 s after SIGTERM")
    if !p.isRunning { XCTAssertEqual(p.terminationStatus, 0) }
  }
}
