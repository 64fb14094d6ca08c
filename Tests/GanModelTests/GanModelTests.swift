import GanTestSupport
import XCTest
import GanModel

final class PhiloxTests: XCTestCase {
  /// Known-answer vectors of Philox4x32-10 from the Random123 distribution (kat_vectors).
  func testKnownAnswers() {
    func hex(_ t: (UInt32, UInt32, UInt32, UInt32)) -> [UInt32] { [t.0, t.1, t.2, t.3] }
    XCTAssertEqual(hex(Philox4x32.block((0, 0, 0, 0), key: (0, 0))),
                   [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8])
    XCTAssertEqual(hex(Philox4x32.block((0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff), key: (0xffff_ffff,
        0xffff_ffff))),
                   [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd])
    XCTAssertEqual(hex(Philox4x32.block((0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), key: (0xa409_3822,
        0x299f_31d0))),
                   [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1])
  }

  func testNormalsHaveUnitMomentsAndStreamsAreReproducible() {
    var a = Philox4x32(seed: 42), b = Philox4x32(seed: 42), c = Philox4x32(seed: 43)
    var xs = [Float](repeating: 0, count: 100_000)
    xs.withUnsafeMutableBufferPointer { a.fillNormal($0) }
    var ys = [Float](repeating: 0, count: 100_000)
    ys.withUnsafeMutableBufferPointer { b.fillNormal($0) }
    XCTAssertEqual(xs, ys)
    var zs = [Float](repeating: 0, count: 16)
    zs.withUnsafeMutableBufferPointer { c.fillNormal($0) }
    XCTAssertNotEqual(Array(xs[0..<16]), zs)
    let mean = xs.reduce(0, +) / Float(xs.count)
    let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(xs.count)
    XCTAssertEqual(mean, 0, accuracy: 0.01)
    XCTAssertEqual(variance, 1, accuracy: 0.02)
    XCTAssertFalse(xs.contains { !$0.isFinite })
  }
}

final class ArchitectureTests: XCTestCase {
  func testLayerShapesFollowPyTorchExample() throws {
    let a = try Architecture(imageSize: 64, nz: 100, ngf: 64, ndf: 64, nc: 3)
    XCTAssertEqual(a.layerCount, 5)
    XCTAssertEqual((0..<5).map(a.generatorChannels), [512, 256, 128, 64, 3])
    XCTAssertEqual((0..<5).map(a.generatorSize), [4, 8, 16, 32, 64])
    XCTAssertEqual((0..<5).map(a.discriminatorChannels), [64, 128, 256, 512, 1])
    let g = a.generatorSpec
    XCTAssertEqual(g.parameters.map(\.name), ["main.0.weight", "main.1.weight", "main.1.bias", "main.3.weight",
                                              "main.4.weight",
                                              "main.4.bias", "main.6.weight", "main.7.weight", "main.7.bias", "main.9.weight",
                                              "main.10.weight", "main.10.bias", "main.12.weight"])
    XCTAssertEqual(g.parameter(named: "main.0.weight")?.layout.torchShape, [100, 512, 4, 4])
    XCTAssertEqual(g.parameterCount, 3_576_704)  // pytorch/examples dcgan netG
    let d = a.discriminatorSpec
    XCTAssertEqual(d.parameters.map(\.name), ["main.0.weight", "main.2.weight", "main.3.weight", "main.3.bias",
                                              "main.5.weight",
                                              "main.6.weight", "main.6.bias", "main.8.weight", "main.9.weight", "main.9.bias",
                                              "main.11.weight"])
    XCTAssertEqual(d.parameterCount, 2_765_568)  // pytorch/examples dcgan netD
    let small = try Architecture(imageSize: 32, nz: 100, ngf: 64, ndf: 64, nc: 1)
    XCTAssertEqual(small.layerCount, 4)
    XCTAssertEqual((0..<4).map(small.generatorChannels), [256, 128, 64, 1])
    let big = try Architecture(imageSize: 128)
    XCTAssertEqual(big.layerCount, 6)
    XCTAssertEqual(big.generatorChannels(0), 1024)
    XCTAssertEqual(try Architecture(json: a.json), a)
  }

  func testInvalidArchitecturesAreRejected() {
    XCTAssertThrowsError(try Architecture(imageSize: 48))
    XCTAssertThrowsError(try Architecture(nc: 2))
    XCTAssertThrowsError(try Architecture(ngf: 0))
    XCTAssertThrowsError(try Architecture(json: "{\"image_size\":64}"))
  }

  func testLayoutConversionsRoundTrip() {
    for layout in [TensorLayout.deconvWeight(cin: 3, cout: 5), .projectionWeight(cin: 7, cout: 2), .convWeight(cin: 4,
        cout: 3), .vector(9)] {
      let src = (0..<layout.count).map { Float($0) }
      var mid = [Float](repeating: -1, count: layout.count), back = mid
      src.withUnsafeBufferPointer { s in mid.withUnsafeMutableBufferPointer { layout.fromTorch(s.baseAddress!,
          to: $0.baseAddress!) } }
      XCTAssertEqual(Set(mid), Set(src), "\(layout) is a permutation")
      mid.withUnsafeBufferPointer { s in back.withUnsafeMutableBufferPointer { layout.toTorch(s.baseAddress!,
          to: $0.baseAddress!) } }
      XCTAssertEqual(back, src, "\(layout) round trip")
    }
    // ConvTranspose2d weight (cin, cout, ky, kx) -> (ky, kx, cin, cout): element (1, 2, 3, 0).
    let l = TensorLayout.deconvWeight(cin: 2, cout: 3)
    let src = (0..<l.count).map { Float($0) }
    var dst = [Float](repeating: 0, count: l.count)
    src.withUnsafeBufferPointer { s in dst.withUnsafeMutableBufferPointer { l.fromTorch(s.baseAddress!,
        to: $0.baseAddress!) } }
    let internalIndex: Int = ((3 * 4 + 0) * 2 + 1) * 3 + 2
    let torchIndex: Int = ((1 * 3 + 2) * 4 + 3) * 4 + 0
    XCTAssertEqual(dst[internalIndex], src[torchIndex])
  }
}

final class JSONTests: XCTestCase {
  func testParsesAndSerializes() throws {
    let v = try JSON.parse(#" {"a": [1, -2.5e3, true, false, null], "b\"\u00e9": {"c": "x\ny"}} "#)
    XCTAssertEqual(v["a"]?.arrayValue?.count, 5)
    XCTAssertEqual(v["a"]?.arrayValue?[1], .number(-2500))
    XCTAssertEqual(v["b\"é"]?["c"]?.stringValue, "x\ny")
    XCTAssertEqual(try JSON.parse(v.serialized), v)
  }

  func testRejectsMalformedInput() {
    for bad in ["", "{", "{\"a\" 1}", "[1,]", "{\"a\":1}x", "\"unterminated", "{\"a\":tru}", "[1 2]"] {
      XCTAssertThrowsError(try JSON.parse(bad), "accepted \(bad)")
    }
  }

  /// fuzz-json's first finding: 1e999 parsed as infinity and serialized as `inf`, which is not
  /// JSON. Out-of-range numbers are refused; a non-finite value serializes as null.
  func testNumbersBeyondDoubleAreRefusedAndNonFiniteSerializesAsNull() {
    for bad in ["1e999", "-1e999", "[66666666666666666666666666666666666666666666666666666e6666]"] {
      XCTAssertThrowsError(try JSON.parse(bad), "accepted \(bad)") { e in
        XCTAssertTrue("\(e)".contains("number out of range"), "\(e)")
      }
    }
    XCTAssertEqual(JSON.array([.number(.infinity), .number(-.infinity), .number(.nan)]).serialized, "[null,null,null]")
  }

  /// fuzz-json's second finding: a high surrogate escape followed by another escape that is not a
  /// low surrogate ("\udACf\udACf") overflowed the pair arithmetic and trapped. Refused instead;
  /// a proper pair still decodes.
  func testUnpairedSurrogateEscapesAreRefused() {
    for bad in ["\"\\udACf\\udACf\"", "\"\\udACf\\u0041\"", "\"\\udACf\"", "\"\\uDC00\""] {
      XCTAssertThrowsError(try JSON.parse(bad), "accepted \(bad)")
    }
    XCTAssertEqual(try JSON.parse("\"\\ud83d\\ude00\""), .string("\u{1F600}"))
  }
}

final class SafeTensorsTests: ScratchDirectoryTestCase {
  override var scratchPrefix: String { "swift-gan-st" }

  func sample() -> SafeTensorsWriter {
    var w = SafeTensorsWriter()
    w.metadata = [("gan.format", "1"), ("gan.arch", "{}")]
    w.add("vec", floats: [1, 2, 3], shape: [3])
    w.add("mat", floats: (0..<32).map { Float($0) / 4 }, shape: [2, 16])
    w.add("steps", int64: [7], shape: [1])
    return w
  }

  func testRoundTripAlignmentAndAtomicWrite() throws {
    let path = dir + "/a.safetensors"
    try sample().write(to: path)
    let f = try SafeTensorsFile(path: path)
    XCTAssertEqual(try f.floats("vec"), [1, 2, 3])
    XCTAssertEqual(try f.floats("mat", shape: [2, 16]), (0..<32).map { Float($0) / 4 })
    XCTAssertEqual(try f.integers("steps"), [7])
    XCTAssertEqual(f.metadata["gan.format"], "1")
    // Data section starts 64-byte aligned; a 64-byte multiple tensor keeps alignment.
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    let n = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16
    XCTAssertEqual((8 + n) % 64, 0)
    XCTAssertEqual(f.entry("mat")!.begin % 64, 0)
    // No temporary file left behind.
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["a.safetensors"])
    XCTAssertThrowsError(try f.floats("steps")) { e in XCTAssert("\(e)".contains("expected F32"), "\(e)") }
    XCTAssertThrowsError(try f.floats("mat", shape: [16, 2])) { e in XCTAssert("\(e)".contains("shape"), "\(e)") }
    XCTAssertThrowsError(try f.floats("nope")) { e in XCTAssert("\(e)".contains("missing tensor \"nope\""), "\(e)") }
  }

  /// An AtomicFile dropped before commit (a failure half-way) leaves the old file and no
  /// temporary; committed, it replaces the old file whole.
  func testAtomicFileAppearsWholeOrNotAtAll() throws {
    let path = dir + "/raw.bin"
    try writeFileAtomically(path: path, bytes: [1, 2, 3])
    do {
      let f = try AtomicFile(path: path)
      try f.write([9, 9, 9, 9])
      XCTAssertEqual(f.size, 4)
    }
    XCTAssertEqual(FileManager.default.contents(atPath: path), Data([1, 2, 3]))
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["raw.bin"])
    let f = try AtomicFile(path: path)
    try f.write([4, 5])
    try f.write([6])
    try f.commit()
    XCTAssertEqual(FileManager.default.contents(atPath: path), Data([4, 5, 6]))
    XCTAssertThrowsError(try AtomicFile(path: dir + "/missing-folder/x")) { e in
      XCTAssert("\(e)".hasPrefix(self.dir + "/missing-folder/x: cannot create"), "\(e)")
    }
    // The streamed .npy header is the one encodeFloat32 writes.
    let values: [Float] = [1, -2, 0.5, 3, 4, 5]
    let whole = values.withUnsafeBufferPointer { NPY.encodeFloat32($0, shape: [2, 3]) }
    let header = NPY.float32Header(shape: [2, 3])
    XCTAssertEqual(header.count % 64, 0)
    XCTAssertEqual(Array(whole.prefix(header.count)), header)
    XCTAssertEqual(whole.count, header.count + 4 * values.count)
  }

  func expectError(_ bytes: [UInt8]?, _ fragment: String, directory: Bool = false, line: UInt = #line) {
    let path = dir + "/bad-\(line).safetensors"
    if directory {
      try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } else if let b = bytes {
      FileManager.default.createFile(atPath: path, contents: Data(b))
    }
    XCTAssertThrowsError(try SafeTensorsFile(path: path), line: line) { e in
      let text = "\(e)"
      XCTAssert(text.hasPrefix(path), "error does not name the file: \(text)", line: line)
      XCTAssert(text.contains(fragment), "expected '\(fragment)' in: \(text)", line: line)
      XCTAssertFalse(text.contains("\n"), "one line", line: line)
    }
  }

  func header(_ json: String, data: Int = 0) -> [UInt8] {
    let h = Array(json.utf8)
    var out: [UInt8] = []
    withUnsafeBytes(of: UInt64(h.count).littleEndian) { out.append(contentsOf: $0) }
    return out + h + [UInt8](repeating: 0, count: data)
  }

  func testBadFilesGiveOneClearError() {
    let good = sample().serialize()
    expectError([], "empty file")
    expectError([1, 2, 3], "truncated")
    expectError(Array(good.prefix(good.count - 10)), "outside")
    expectError([0xff, 0xff, 0, 0, 0, 0, 0, 0, 0x7b], "runs past the end")
    expectError([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0], "exceeds")
    expectError(header("{\"a\": {\"dtype\": \"F32\""), "not valid JSON")
    expectError(header("[1, 2]"), "not a JSON object")
    expectError(header(#"{"a": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 4]}}"#, data: 4), "unsupported dtype Q7")
    expectError(header(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}"#, data: 8), "needs 8")
    expectError(header(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}"#, data: 8), "overlap")
    expectError(header(#"{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, data: 4), "invalid shape")
    expectError(nil, "not a regular file", directory: true)
    expectError(nil, "No such file")
  }
}
