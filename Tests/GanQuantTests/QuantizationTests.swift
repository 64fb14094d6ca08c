import Foundation
import GanKernels
import GanModel
import GanQuant
import GanRuntime
import GanTestSupport
import XCTest

/// The PyTorch fixtures of GanRuntimeTests: random 32/64 px generators with non-trivial BN statistics.
let fixtureDir = String(#filePath[..<#filePath.range(of: "/GanQuantTests/")!.lowerBound]) + "/GanRuntimeTests/Fixtures"

final class QuantizationTests: ScratchDirectoryTestCase {
  override var scratchPrefix: String { "gan-quant" }

  func quantize(_ model: String = fixtureDir + "/g32.safetensors", keep: Set<Int> = [],
                method: CalibrationMethod = .mse,
                bnBatches: Int = 0, name: String = "q") throws -> (path: String, report: QuantizationReport) {
    var o = QuantizationOptions()
    o.calibrationBatches = 2
    o.bnReestimationBatches = bnBatches
    o.keepFP32 = keep
    o.method = method
    o.threads = 2
    let path = dir + "/\(name).safetensors"
    return (path, try quantizeGenerator(input: model, output: path, options: o))
  }

  /// The report's numbers recomputed from the files: fp32 (GeneratorRuntime, BN folded) against
  /// int8 (gan-gen's runtime) over the same 256 fixed latents.
  func testReportNumbersMatchAnIndependentEvaluation() throws {
    let (path, report) = try quantize()
    let fp32 = try GeneratorRuntime(path: fixtureDir + "/g32.safetensors", maxBatch: 64, threads: 2)
    let q = try openGenerator(path: path, maxBatch: 64, threads: 2)
    XCTAssert(q is Int8GeneratorRuntime)
    let z = evaluationLatents(seed: 0, count: 256, nz: 100)
    let want = generateImages(fp32, z, count: 256, batch: 64).images, got = generateImages(q, z, count: 256, batch: 64).images
    var se = 0.0, ssim = 0.0
    for (a, b) in zip(got, want) { let d = Double(a - b); se += d * d }
    let n = fp32.imageElements
    for i in 0..<256 {
      ssim += got.withUnsafeBufferPointer { g in want.withUnsafeBufferPointer { w in
        ImageMetrics.ssim(g.baseAddress! + i * n, w.baseAddress! + i * n, size: 32, channels: 1) } }
    }
    let psnr = 10 * log10(4 / (se / Double(got.count)))
    XCTAssertEqual(report.psnrDB, psnr, accuracy: 0.01)
    XCTAssertEqual(report.ssim, ssim / 256, accuracy: 1e-4)
    XCTAssertEqual(report.layers.last!.sqnrDB, 10 * log10(want.reduce(0.0) { $0 + Double($1) * Double($1) } / se),
                   accuracy: 0.01)
    XCTAssertGreaterThanOrEqual(report.psnrDB, 30, "int8 PSNR against fp32")
    XCTAssertEqual(report.layers.count, 4)
    for l in report.layers {
      XCTAssert(l.int8)
      XCTAssertGreaterThan(l.sqnrDB, 20, "G\(l.index + 1)")
      XCTAssertGreaterThan(l.inputScale, 0)
      XCTAssertLessThanOrEqual(l.inputThreshold, l.inputMaximum * 1.0001)
    }
    let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
    let fp32Size = try FileManager.default.attributesOfItem(atPath: fixtureDir + "/g32.safetensors")[.size] as! Int
    XCTAssertEqual(report.int8Bytes, size)
    XCTAssertEqual(report.fp32Bytes, fp32Size)
    XCTAssertLessThanOrEqual(Double(size), 0.30 * Double(fp32Size))
    // The JSON carries the same numbers.
    let json = try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as! [String: Any]
    XCTAssertEqual(json["psnr_db"] as! Double, report.psnrDB, accuracy: 1e-9)
    XCTAssertEqual((json["layers"] as! [[String: Any]]).count, 4)
    XCTAssertEqual(json["int8_bytes"] as! Int, size)
  }

  func testFileStoresI8WeightsAndF32ScalesAndSaysSo() throws {
    let (path, _) = try quantize(keep: [3])
    let f = try SafeTensorsFile(path: path)
    XCTAssertEqual(f.metadata["gan.format"], Int8Format.tag)
    XCTAssert(f.metadata["gan.quantization"]!.contains("\"kept_fp32\":[3]"))
    for i in 0..<3 {
      XCTAssertEqual(f.entry(Int8Format.weight(i))!.dtype, .I8)
      XCTAssertEqual(f.entry(Int8Format.weightScale(i))!.dtype, .F32)
      XCTAssertEqual(f.entry(Int8Format.inputScale(i))!.shape, [1])
    }
    XCTAssertEqual(f.entry(Int8Format.weight(3))!.dtype, .F32)
    XCTAssertNil(f.entry(Int8Format.weightScale(3)))
  }

  /// All layers kept in fp32: the int8 runtime's fp32 path equals the fp32 runtime (BN folded the same
  /// way, within rounding); mixed files run and stay close to fp32.
  func testKeptLayersRunInFP32() throws {
    let z = evaluationLatents(seed: 3, count: 16, nz: 100)
    let fp32 = generateImages(try GeneratorRuntime(path: fixtureDir + "/g32.safetensors", maxBatch: 16, threads: 2), z,
                      count: 16, batch: 16).images
    let (all, _) = try quantize(keep: [0, 1, 2, 3], name: "all")
    let allFP32 = generateImages(try openGenerator(path: all, maxBatch: 16, threads: 2), z, count: 16, batch: 16).images
    XCTAssertLessThanOrEqual(zip(allFP32, fp32).map { abs($0 - $1) }.max()!, 1e-5)
    for keep in [[0], [3], [1, 2]] {
      let (p, report) = try quantize(keep: Set(keep), name: "k\(keep)")
      XCTAssertEqual(report.keptFP32, keep)
      XCTAssertGreaterThanOrEqual(report.psnrDB, 30, "keep \(keep)")
      let r = try openGenerator(path: p, maxBatch: 16, threads: 2) as! Int8GeneratorRuntime
      XCTAssertEqual(r.int8Layers, (0..<4).map { !keep.contains($0) })
    }
  }

  /// Bitwise identical for 1 and 2 threads and batches 1, 7 and 64, and for every int8 variant.
  func testInt8OutputIsDeterministic() throws {
    let (path, _) = try quantize(fixtureDir + "/g64.safetensors", name: "g64")
    let z = evaluationLatents(seed: 5, count: 70, nz: 32)
    var reference: (images: [Float], pixels: [UInt8])?
    for threads in [1, 2] {
      for batch in [1, 7, 64] {
        let got = generateImages(try openGenerator(path: path, maxBatch: batch, threads: threads), z, count: 70, batch: batch)
        if let ref = reference {
          XCTAssert(got.images == ref.images && got.pixels == ref.pixels, "threads \(threads) batch \(batch)")
        } else {
          reference = got
        }
      }
    }
    for v in Int8Kernels.variants where v.available {
      Int8Kernels.forceVariant(v.index)
      defer { Int8Kernels.forceVariant(nil) }
      let got = generateImages(try openGenerator(path: path, maxBatch: 7, threads: 2), z, count: 70, batch: 7)
      XCTAssert(got.images == reference!.images, "variant \(v.name)")
    }
  }

  func testInt8GenerateAllocatesNothing() throws {
    let (path, _) = try quantize(keep: [1])
    for p in [path, try quantize(name: "all8").path] {
      let r = try openGenerator(path: p, maxBatch: 8, threads: 2)
      let z = evaluationLatents(seed: 1, count: 8, nz: 100)
      let out = UnsafeMutablePointer<Float>.allocate(capacity: 8 * r.imageElements)
      let px = UnsafeMutablePointer<UInt8>.allocate(capacity: 8 * r.imageElements)
      defer { out.deallocate(); px.deallocate() }
      z.withUnsafeBufferPointer { zp in
        r.generate(latents: zp.baseAddress!, count: 8, output: out, pixels: px)
        let n = heapAllocations {
          for c in 0..<100 { r.generate(latents: zp.baseAddress!, count: 1 + c % 8, output: c % 2 == 0 ? out : nil,
                                        pixels: px) }
        }
        XCTAssertEqual(n, 0, "heap allocations in 100 int8 generate calls")
      }
    }
  }

  /// Copies an int8 file with one tensor changed (nil: removed).
  func rewrite(_ path: String, to out: String, change: String, _ f: (SafeTensorEntry, [UInt8]) -> (DType, [Int],
      [UInt8])?) throws {
    let src = try SafeTensorsFile(path: path)
    var w = SafeTensorsWriter()
    w.metadata = src.metadata.map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 }
    for e in src.entries {
      let bytes = Array(src.rawBytes(e))
      if e.name == change {
        if let (d, s, b) = f(e, bytes) { w.add(e.name, dtype: d, shape: s, bytes: b) }
      } else {
        w.add(e.name, dtype: e.dtype, shape: e.shape, bytes: bytes)
      }
    }
    try w.write(to: out)
  }

  func testBadInt8FilesGiveClearErrors() throws {
    let (path, _) = try quantize()
    func floatBytes(_ v: [Float]) -> [UInt8] { v.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian,
        Array.init) } }
    let cases: [(String, String, (SafeTensorEntry, [UInt8]) -> (DType, [Int], [UInt8])?, String)] = [
      ("scale-count", "main.3.weight_scale", { e, b in (.F32, [e.shape[0] - 1], Array(b.dropLast(4))) },
       "has 31 scales, expected 32 (one per output channel of main.3.weight)"),
      ("scale-zero", "main.6.weight_scale", { e, b in (.F32, e.shape, floatBytes([0]) + Array(b.dropFirst(4))) },
       "\"main.6.weight_scale\"[0] is 0.0; scales must be finite and positive"),
      ("input-scale-nan", "main.3.input_scale", { e, _ in (.F32, e.shape, floatBytes([.nan])) },
       "main.3.input_scale\" is nan"),
      ("input-scale-missing", "main.6.input_scale", { _, _ in nil }, "missing tensor \"main.6.input_scale\""),
      ("weight-dtype", "main.9.weight", { e, b in (.I16, [e.shape[0], e.shape[1], 4, 2], b) },
       "has shape [16, 1, 4, 2], expected [16, 1, 4, 4]"),
      ("weight-i32", "main.0.weight", { e, b in (.U8, e.shape, b) },
       "is U8, expected I8 (or F32 for a layer kept in fp32)"),
    ]
    for (name, tensor, change, fragment) in cases {
      let p = dir + "/\(name).safetensors"
      try rewrite(path, to: p, change: tensor, change)
      XCTAssertThrowsError(try openGenerator(path: p, maxBatch: 1, threads: 1), name) { e in
        XCTAssert("\(e)".hasPrefix(p + ": "), "\(name): \(e)")
        XCTAssert("\(e)".contains(fragment), "\(name): expected '\(fragment)' in \(e)")
      }
    }
  }

  /// The exact int8 Winograd F(2x2, 2x2): bitwise the direct output for 1 and 2 threads, batches 1,
  /// 7 and 64 and every variant that runs it; allocation-free; named in the kernel description.
  func testInt8WinogradIsBitwiseTheDirectOutput() throws {
    let (path, _) = try quantize(fixtureDir + "/g64.safetensors", name: "g64w")
    let z = evaluationLatents(seed: 9, count: 70, nz: 32)
    let direct = generateImages(try openGenerator(path: path, maxBatch: 7, threads: 2), z, count: 70, batch: 7)
    for v in Int8Kernels.variants where v.available {
      Int8Kernels.forceVariant(v.index)
      defer { Int8Kernels.forceVariant(nil) }
      let a = try Architecture(json: SafeTensorsFile(path: path).metadata["gan.arch"]!)
      let layers = Set((1..<a.layerCount).filter {
        Int8Kernels.winogradSupported(height: a.generatorSize($0 - 1), width: a.generatorSize($0 - 1),
                                      inChannels: a.generatorInputChannels($0))
      })
      guard !layers.isEmpty else {
        XCTAssertThrowsError(try Int8GeneratorRuntime(path: path, maxBatch: 1, threads: 1, winogradLayers: [1]), v.name)
        continue
      }
      XCTAssertEqual(layers, Set(1..<a.layerCount), v.name)
      for threads in [1, 2] {
        for batch in [1, 7, 64] {
          let r = try Int8GeneratorRuntime(path: path, maxBatch: batch, threads: threads, winogradLayers: layers)
          XCTAssertEqual(r.winogradLayers, (0..<a.layerCount).map { layers.contains($0) })
          XCTAssert(r.kernelDescription.contains("Winograd F(2x2,2x2) layers"), r.kernelDescription)
          let got = generateImages(r, z, count: 70, batch: batch)
          XCTAssert(got.images == direct.images && got.pixels == direct.pixels,
                    "\(v.name) threads \(threads) batch \(batch)")
        }
      }
      let r = try Int8GeneratorRuntime(path: path, maxBatch: 8, threads: 2, winogradLayers: layers)
      let out = UnsafeMutablePointer<Float>.allocate(capacity: 8 * r.imageElements)
      defer { out.deallocate() }
      z.withUnsafeBufferPointer { zp in
        r.generate(latents: zp.baseAddress!, count: 8, output: out, pixels: nil)
        let n = heapAllocations { for c in 0..<20 { r.generate(latents: zp.baseAddress!, count: 1 + c % 8, output: out,
                                                            pixels: nil) } }
        XCTAssertEqual(n, 0, "heap allocations in int8 Winograd generate calls")
      }
    }
    // The rule (128+ input channels) leaves this small model's layers direct; the flag is accepted.
    let r = try openGenerator(path: path, maxBatch: 1, threads: 1, winograd: true) as! Int8GeneratorRuntime
    XCTAssertEqual(r.winogradLayers.filter { $0 }.count, 0)
  }

  func testOptionsAreChecked() throws {
    XCTAssertThrowsError(try quantize(keep: [4])) { e in XCTAssert("\(e)".contains("layer 4 does not exist"), "\(e)") }
    XCTAssertThrowsError(try quantize(dir + "/missing.safetensors"))
  }

  /// minmax never clips; percentile and mse clip the tail.
  func testMethodsOrderThresholds() throws {
    let mm = try quantize(method: .minmax, name: "mm").report, pc = try quantize(method: .percentile, name: "pc").report
    for (a, b) in zip(mm.layers, pc.layers) {
      XCTAssertEqual(a.inputThreshold, a.inputMaximum)
      XCTAssertLessThan(b.inputThreshold, a.inputThreshold)
    }
  }
}

/// gan-quant and gan-gen as users run them.
final class GanQuantCLITests: ScratchDirectoryTestCase {
  override var scratchPrefix: String { "gan-quant-cli" }
  func run(_ tool: String, _ args: [String]) throws -> (status: Int32, out: String, err: String) {
    try Executables.run(tool, args)
  }

  func testQuantizeThenGenerate() throws {
    let out = dir + "/g.int8.safetensors"
    let q = try run("gan-quant", ["--model", fixtureDir + "/g32.safetensors", "--out", out, "--calibration-batches",
                                  "2",
                                  "--bn-batches", "2", "--threads", "2"])
    XCTAssertEqual(q.status, 0, q.err)
    XCTAssert(q.out.contains("PSNR") && q.out.contains("SSIM") && q.out.contains("SQNR"), q.out)
    let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/g.int8.report.json"))) as! [String: Any]
    XCTAssertEqual(report["method"] as? String, "mse")
    XCTAssertGreaterThanOrEqual(report["psnr_db"] as! Double, 30)
    XCTAssertEqual(report["bn_reestimation_batches"] as? Int, 2)
    let g = try run("gan-gen", ["--model", out, "--count", "4", "--grid", "2", "--out", dir + "/grid.png"])
    XCTAssertEqual(g.status, 0, g.err)
    XCTAssert(FileManager.default.fileExists(atPath: dir + "/grid.png"))
  }

  /// Bad int8 files through gan-gen: one line naming the file and the reason, exit status 1.
  func testBadInt8FilesThroughGanGen() throws {
    let good = dir + "/g.int8.safetensors"
    var o = QuantizationOptions()
    o.calibrationBatches = 1
    o.bnReestimationBatches = 0
    _ = try quantizeGenerator(input: fixtureDir + "/g32.safetensors", output: good, options: o)
    let src = try SafeTensorsFile(path: good)
    func variant(_ name: String, _ change: (inout [(String, DType, [Int], [UInt8])]) -> Void) throws -> String {
      var tensors = src.entries.map { ($0.name, $0.dtype, $0.shape, Array(src.rawBytes($0))) }
      change(&tensors)
      var w = SafeTensorsWriter()
      w.metadata = src.metadata.map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 }
      for t in tensors { w.add(t.0, dtype: t.1, shape: t.2, bytes: t.3) }
      let p = dir + "/\(name).safetensors"
      try w.write(to: p)
      return p
    }
    let cases: [(String, String, (inout [(String, DType, [Int], [UInt8])]) -> Void)] = [
      ("scales", "has 31 scales, expected 32", { t in
        let i = t.firstIndex { $0.0 == "main.3.weight_scale" }!
        t[i].2 = [t[i].2[0] - 1]; t[i].3.removeLast(4)
      }),
      ("negative-scale", "scales must be finite and positive", { t in
        let i = t.firstIndex { $0.0 == "main.6.input_scale" }!
        t[i].3 = withUnsafeBytes(of: Float(-1).bitPattern.littleEndian, Array.init)
      }),
      ("format", "not a DCGAN generator", { _ in }),
    ]
    for (name, fragment, change) in cases {
      var p = try variant(name, change)
      if name == "format" {
        // Without the int8 tag the file is read as fp32, whose checks reject I8 weights.
        var w = SafeTensorsWriter()
        for e in src.entries { w.add(e.name, dtype: e.dtype, shape: e.shape, bytes: Array(src.rawBytes(e))) }
        p = dir + "/untagged.safetensors"
        try w.write(to: p)
      }
      let r = try run("gan-gen", ["--model", p, "--count", "1", "--out", dir + "/o"])
      XCTAssertEqual(r.status, 1, "\(name): \(r.err)")
      XCTAssertEqual(r.err.split(separator: "\n").count, 1, "\(name): \(r.err)")
      XCTAssert(r.err.hasPrefix("gan-gen: \(p): "), "\(name): \(r.err)")
      XCTAssert(r.err.contains(fragment) || name == "format", "\(name): expected '\(fragment)' in \(r.err)")
    }
  }

  /// gan-gen's own flag parsing: usage errors exit 64 with one line; --help lists every flag.
  func testGanGenUsageErrors() throws {
    let unknown = try run("gan-gen", ["--model", "x", "--colour", "red"])
    XCTAssertEqual(unknown.status, 64)
    XCTAssertEqual(unknown.err, "gan-gen: unknown option '--colour' (see gan-gen --help)\n")
    let bad = try run("gan-gen", ["--model=x", "--count=ten"])
    XCTAssertEqual(bad.status, 64)
    XCTAssertEqual(bad.err, "gan-gen: invalid value 'ten' for '--count': expected an integer (see gan-gen --help)\n")
    let missing = try run("gan-gen", ["--count", "3"])
    XCTAssertEqual(missing.status, 64)
    XCTAssert(missing.err.contains("missing '--model <path>'"), missing.err)
    let noValue = try run("gan-gen", ["--model"])
    XCTAssertEqual(noValue.status, 64)
    // Absurd values are usage errors, checked before the model is opened.
    for (args, message) in [(["--threads", "0"], "--threads 0: expected 1 to 1024"),
                            (["--threads", "100000"], "--threads 100000: expected 1 to 1024"),
                            (["--batch", "99999999"], "--batch must be between 1 and 4096"),
                            (["--count", "0"], "--count must be between 1 and 2^62"),
                            (["--first-index", "-1"], "--first-index must be between 0 and 2^62 - --count"),
                            (["--count", "9223372036854775807"], "--count must be between 1 and 2^62"),
                            (["--from", "-3", "--interpolate", "linear"], "--from must be between 0 and 2^62"),
                            (["--steps", "1", "--interpolate", "linear"], "--steps must be at least 2")] {
      let r = try run("gan-gen", ["--model", "x"] + args)
      XCTAssertEqual(r.status, 64, "\(args): \(r.err)")
      XCTAssertEqual(r.err, "gan-gen: \(message) (see gan-gen --help)\n", "\(args)")
    }
    let help = try run("gan-gen", ["--help"])
    XCTAssertEqual(help.status, 0)
    for flag in ["--model", "--count", "--seed", "--first-index", "--batch", "--threads", "--out", "--grid",
                 "--latents",
                 "--save-raw", "--interpolate", "--from", "--to", "--steps", "--bench", "--winograd", "--help"] {
      XCTAssert(help.out.contains(flag + " ") || help.out.contains(flag + "\n"), "--help lacks \(flag)")
    }
  }

  func testBadArgumentsAndFilesGiveOneErrorLine() throws {
    let m = try run("gan-quant", ["--model", fixtureDir + "/g32.safetensors", "--out", dir + "/x.safetensors",
                                  "--method", "kl"])
    XCTAssertEqual(m.status, 1)
    XCTAssertEqual(m.err, "gan-quant: --method kl: expected one of minmax, percentile, mse\n")
    FileManager.default.createFile(atPath: dir + "/empty.safetensors", contents: Data())
    let e = try run("gan-quant", ["--model", dir + "/empty.safetensors", "--out", dir + "/x.safetensors"])
    XCTAssertEqual(e.status, 1)
    XCTAssertEqual(e.err.split(separator: "\n").count, 1, e.err)
    XCTAssert(e.err.contains("empty file"), e.err)
    let h = try run("gan-quant", ["--help"])
    for flag in ["--model", "--out", "--calibration-batches", "--method", "--percentile", "--keep-fp32", "--bn-batches",
                 "--seed", "--threads"] {
      XCTAssert(h.out.contains(flag), "--help lacks \(flag)")
    }
  }
}
