import Foundation
import GanModel
import GanServe
import GanTestSupport
import Hummingbird
import HummingbirdTesting
import XCTest

final class EndpointTests: ScratchDirectoryTestCase {
  /// /image.png gives byte for byte the PNG gan-gen writes for the same seed and index.
  func testImageIsWhatGanGenWrites() async throws {
    let r = try Executables.run("gan-gen", ["--model", g64Path, "--seed", "5", "--first-index", "3", "--count", "1",
                                            "--out", dir + "/gen"])
    XCTAssertEqual(r.status, 0, r.err)
    let expected = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/gen/image_000003.png")))
    let server = try makeServer()
    try await withClient(server) { client in
      try await client.execute(uri: "/image.png?seed=5&index=3", method: .get) { response in
        XCTAssertEqual(response.status, .ok)
        XCTAssertEqual(response.headers[.contentType], "image/png")
        XCTAssertEqual(response.bytes, expected)
      }
      try await client.execute(uri: "/image.png?seed=5&index=3&size=100", method: .get) { response in
        XCTAssertEqual(pngSize(response.bytes).map { [$0.0, $0.1] }, [100, 100])
      }
    }
  }

  /// A conditional model: /image.png?class=K is gan-gen --class K's PNG; without class it is class 0;
  /// a class out of range is a 400 naming the valid range.
  func testConditionalClassIsWhatGanGenWrites() async throws {
    let model = String(#filePath[..<#filePath.lastIndex(of: "/")!]) +
      "/../GanRuntimeTests/Fixtures/sagan_eval_cond32.safetensors"
    let expected: [[UInt8]] = try (0..<2).map { k in
      let out = dir + "/gen\(k)"
      let r = try Executables.run("gan-gen", ["--model", model, "--seed", "5", "--first-index", "3", "--count", "1",
                                              "--class", "\(k)", "--out", out])
      XCTAssertEqual(r.status, 0, r.err)
      return try [UInt8](Data(contentsOf: URL(fileURLWithPath: out + "/image_000003.png")))
    }
    XCTAssertNotEqual(expected[0], expected[1], "the class must change the image")
    let server = try GanServer(modelPath: model, threads: 2, options: .init(maxBatch: 4, maxWait: 0.002,
                                                                           queueLimit: 64))
    try await withClient(server) { client in
      let json = try JSON.parse(try await client.execute(uri: "/model", method: .get).text)
      XCTAssertEqual(json["classes"]?.arrayValue?.count, 3)
      for k in 0..<2 {
        let r = try await client.execute(uri: "/image.png?seed=5&index=3&class=\(k)", method: .get)
        XCTAssertEqual(r.status, .ok)
        XCTAssertEqual(r.bytes, expected[k], "class \(k)")
      }
      let plain = try await client.execute(uri: "/image.png?seed=5&index=3", method: .get)
      XCTAssertEqual(plain.bytes, expected[0], "no class: class 0")
      let a = try await client.execute(uri: "/image.png?seed=5&index=3&class=1", method: .get)
      XCTAssertNotEqual(a.headers[.eTag], plain.headers[.eTag])
      // A grid of one class.
      let grid = try await client.execute(uri: "/grid.png?seed=5&count=4&columns=2&class=2", method: .get)
      XCTAssertEqual(grid.status, .ok)
      XCTAssertEqual(pngSize(grid.bytes).map { [$0.0, $0.1] }, [2 * 34 + 2, 2 * 34 + 2])
      for bad in ["3", "-1", "cat", "1.5"] {
        let r = try await client.execute(uri: "/image.png?class=\(bad)", method: .get)
        XCTAssertEqual(r.status, .badRequest, bad)
        XCTAssertTrue(r.text.contains("is not a class index from 0 to 2 or a class name"), r.text)
      }
    }
  }

  /// Grid and strip sizes follow gan-gen's grid layout; frame 0 of an interpolation is its start image.
  func testGridAndInterpolation() async throws {
    let server = try makeServer()
    try await withClient(server) { client in
      let grid = try await client.execute(uri: "/grid.png?seed=2&count=10&columns=4", method: .get)
      XCTAssertEqual(grid.status, .ok)
      XCTAssertEqual(pngSize(grid.bytes).map { [$0.0, $0.1] }, [4 * 66 + 2, 3 * 66 + 2])
      let strip = try await client.execute(uri: "/interpolate.png?from=7:1&to=8:2&steps=5&mode=linear",
                                           method: .get)
      XCTAssertEqual(pngSize(strip.bytes).map { [$0.0, $0.1] }, [5 * 66 + 2, 68])
      let start = try await client.execute(uri: "/image.png?seed=7&index=1", method: .get)
      for mode in ["linear", "slerp"] {
        let frame0 = try await client.execute(uri: "/interpolate.png?from=7:1&to=8:2&steps=5&mode=\(mode)&frame=0",
                                              method: .get)
        XCTAssertEqual(frame0.bytes, start.bytes, mode)
      }
      let end = try await client.execute(uri: "/image.png?seed=8&index=2", method: .get)
      let frame4 = try await client.execute(uri: "/interpolate.png?from=7:1&to=8:2&steps=5&mode=linear&frame=4",
                                            method: .get)
      XCTAssertEqual(frame4.bytes, end.bytes)
      let frame2 = try await client.execute(uri: "/interpolate.png?from=7:1&to=8:2&steps=5&mode=linear&frame=2",
                                            method: .get)
      XCTAssertNotEqual(frame2.bytes, start.bytes)
      XCTAssertNotEqual(frame2.bytes, end.bytes)
    }
  }

  /// Equal requests (any parameter order) share an ETag; If-None-Match answers 304 with no body.
  func testETagAndNotModified() async throws {
    let server = try makeServer()
    try await withClient(server) { client in
      let a = try await client.execute(uri: "/image.png?seed=1&index=2", method: .get)
      let b = try await client.execute(uri: "/image.png?index=2&seed=1", method: .get)
      let c = try await client.execute(uri: "/image.png?seed=1&index=3", method: .get)
      let tag = try XCTUnwrap(a.headers[.eTag])
      XCTAssertEqual(b.headers[.eTag], tag)
      XCTAssertNotEqual(c.headers[.eTag], tag)
      XCTAssertEqual(a.headers[.cacheControl], "public, max-age=3600")
      let cached = try await client.execute(uri: "/image.png?seed=1&index=2", method: .get,
                                            headers: [.ifNoneMatch: tag])
      XCTAssertEqual(cached.status, .notModified)
      XCTAssertEqual(cached.body.readableBytes, 0)
      let stale = try await client.execute(uri: "/image.png?seed=1&index=2", method: .get,
                                           headers: [.ifNoneMatch: "\"0000000000000000\""])
      XCTAssertEqual(stale.status, .ok)
      XCTAssertEqual(stale.bytes, a.bytes)
    }
  }

  /// Every class of bad request: its status and its one-line JSON error.
  func testBadRequests() async throws {
    let cases: [(String, HTTPRequest.Method, HTTPResponse.Status, String)] = [
      ("/image.png?seed=abc", .get, .badRequest, "seed: 'abc' is not a whole number from 0 to 18446744073709551615"),
      ("/image.png?seed=-1", .get, .badRequest, "seed: '-1' is not a whole number"),
      ("/image.png?index=1.5", .get, .badRequest, "index: '1.5' is not a whole number from 0 to 1099511627776"),
      ("/image.png?index=99999999999999999999", .get, .badRequest, "index: '99999999999999999999' is not"),
      ("/image.png?size=100000", .get, .badRequest, "size: '100000' is not a whole number from 8 to 1024"),
      ("/image.png?size=4", .get, .badRequest, "size: '4' is not a whole number from 8 to 1024"),
      ("/image.png?class=3", .get, .badRequest, "class: the model is not conditional"),
      ("/image.png?colour=red", .get, .badRequest, "unknown parameter 'colour' (this endpoint takes seed, index,"),
      ("/image.png?seed=1&seed=2", .get, .badRequest, "seed: given more than once"),
      ("/grid.png?count=1000", .get, .badRequest, "count: '1000' is not a whole number from 1 to 256"),
      ("/grid.png?count=0", .get, .badRequest, "count: '0' is not a whole number from 1 to 256"),
      ("/grid.png?columns=65", .get, .badRequest, "columns: '65' is not a whole number from 1 to 64"),
      ("/grid.png?count=256&columns=16&size=1024", .get, .badRequest, "over the limit of 16777216"),
      ("/interpolate.png?from=1", .get, .badRequest, "from: '1' is not SEED:INDEX"),
      ("/interpolate.png?to=a:b", .get, .badRequest, "to: 'a:b' is not SEED:INDEX"),
      ("/interpolate.png?steps=1", .get, .badRequest, "steps: '1' is not a whole number from 2 to 64"),
      ("/interpolate.png?steps=1000000000", .get, .badRequest, "steps: '1000000000' is not a whole number"),
      ("/interpolate.png?mode=cubic", .get, .badRequest, "mode: 'cubic' is not 'slerp' or 'linear'"),
      ("/interpolate.png?steps=4&frame=4", .get, .badRequest, "frame: '4' is not a whole number from 0 to 3"),
      ("/interpolate.png?steps=64&size=1024", .get, .badRequest, "over the limit of 16777216"),
      ("/nothing-here", .get, .notFound, "GET /nothing-here: not found (the server answers GET /, /image.png"),
      ("/image.png", .post, .notFound, "POST /image.png: not found"),
      ("/model", .delete, .notFound, "DELETE /model: not found"),
    ]
    let server = try makeServer()
    try await withClient(server) { client in
      for (uri, method, status, message) in cases {
        let r = try await client.execute(uri: uri, method: method)
        XCTAssertEqual(r.status, status, uri)
        XCTAssertEqual(r.headers[.contentType], "application/json; charset=utf-8", uri)
        let lines = r.text.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 2, "one line and its newline: \(uri)")
        let error = try JSON.parse(String(lines[0]))["error"]?.stringValue ?? ""
        XCTAssertTrue(error.hasPrefix(message) || error.contains(message), "\(uri): \(error)")
      }
      // The server still answers after all of them.
      let ok = try await client.execute(uri: "/healthz", method: .get)
      XCTAssertEqual(ok.status, .ok)
    }
  }

  /// /model describes the generator and the limits; /healthz answers; /metrics counts requests
  /// by endpoint and status and the batch sizes formed.
  func testModelHealthAndMetrics() async throws {
    let server = try makeServer()
    try await withClient(server) { client in
      let model = try JSON.parse(try await client.execute(uri: "/model", method: .get).text)
      XCTAssertEqual(model["dtype"]?.stringValue, "fp32")
      XCTAssertEqual(model["imageSize"]?.intValue, 64)
      XCTAssertEqual(model["architecture"]?["nz"]?.intValue, 32)
      XCTAssertEqual(model["classes"]?.arrayValue?.count, 0)
      XCTAssertEqual(model["limits"]?["maxGridCount"]?.intValue, 256)
      let health = try await client.execute(uri: "/healthz", method: .get)
      XCTAssertEqual(health.text, "{\"status\":\"ok\"}\n")
      _ = try await client.execute(uri: "/grid.png?count=5", method: .get)
      _ = try await client.execute(uri: "/image.png?seed=x", method: .get)
      let metrics = try await client.execute(uri: "/metrics", method: .get).text
      XCTAssertTrue(metrics.contains("gan_serve_requests_total{endpoint=\"/grid.png\",status=\"200\"} 1"), metrics)
      XCTAssertTrue(metrics.contains("gan_serve_requests_total{endpoint=\"/image.png\",status=\"400\"} 1"), metrics)
      XCTAssertTrue(metrics.contains("gan_serve_batch_size_sum 5.0"), metrics)
      XCTAssertTrue(metrics.contains("gan_serve_images_generated_total 5"), metrics)
      XCTAssertTrue(metrics.contains("gan_serve_request_duration_seconds_bucket{endpoint=\"/grid.png\""), metrics)
    }
  }

  /// The page is one document that loads nothing from another origin.
  func testPageIsSelfContained() async throws {
    let server = try makeServer()
    try await withClient(server) { client in
      let r = try await client.execute(uri: "/", method: .get)
      XCTAssertEqual(r.status, .ok)
      XCTAssertEqual(r.headers[.contentType], "text/html; charset=utf-8")
      let html = r.text
      for id in ["new-faces", "seed", "grid", "kept", "strip", "slider", "frame", "download", "class"] {
        XCTAssertTrue(html.contains("id=\"\(id)\""), id)
      }
      XCTAssertFalse(html.contains("http://") || html.contains("https://") || html.contains("//cdn"),
                     "the page must not reference another origin")
      let references = html.components(separatedBy: "href=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
      XCTAssertEqual(references.filter { !($0.hasPrefix("data:") || $0 == "#") }, [], "links off the page")
    }
  }
}
