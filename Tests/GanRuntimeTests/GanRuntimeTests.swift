import Foundation
import GanImage
import GanKernels
import GanModel
import GanRuntime
import GanTestSupport
import XCTest

let fixtureDir = String(#filePath[..<#filePath.lastIndex(of: "/")!]) + "/Fixtures"

final class GeneratorRuntimeTests: XCTestCase {

  /// Eval-mode PyTorch outputs (BN folded here) within 1e-4 max abs, for main.N. and bare N. names.
  func testMatchesPyTorchEvalMode() throws {
    for (size, nc) in [(32, 1), (64, 3)] {
      let r = try GeneratorRuntime(path: fixtureDir + "/g\(size).safetensors", maxBatch: 4, threads: 2)
      XCTAssertEqual(r.architecture.imageSize, size)
      XCTAssertEqual(r.architecture.nc, nc)
      XCTAssertEqual(r.namePrefix, size == 32 ? "main." : "")
      let (z, zs) = try NPY.readFloat32(path: fixtureDir + "/z\(size).npy")
      let (want, ws) = try NPY.readFloat32(path: fixtureDir + "/out\(size).npy")
      let got = generateImages(r, z, count: zs[0], batch: 4)
      let err = maxAbs(got.images, nchwToNHWC(want, n: ws[0], c: ws[1], h: ws[2], w: ws[3]))
      print("gan-gen vs PyTorch \(size) px: max abs error \(err)")
      XCTAssertLessThanOrEqual(err, 1e-4, "\(size) px max abs error")
      // Pixels are the float output rounded as the reference conversion does.
      var ref = [UInt8](repeating: 0, count: got.images.count)
      ElementwiseReference.toUInt8(count: got.images.count, src: got.images, dst: &ref)
      XCTAssertEqual(got.pixels, ref, "\(size) px pixels")
    }
  }

  func testBitwiseIdenticalForAnyThreadCountAndBatch() throws {
    let path = fixtureDir + "/g64.safetensors"
    let count = 70
    var z = [Float](repeating: 0, count: count * 32)
    for i in 0..<count { z.withUnsafeMutableBufferPointer { latent(seed: 9, index: i, into: $0.baseAddress! + i * 32,
                                                                   nz: 32) } }
    var reference: (images: [Float], pixels: [UInt8])?
    for threads in [1, 2] {
      for batch in [1, 7, 64] {
        let r = try GeneratorRuntime(path: path, maxBatch: batch, threads: threads)
        let got = generateImages(r, z, count: count, batch: batch)
        if let ref = reference {
          XCTAssert(got.images == ref.images, "floats differ: threads \(threads) batch \(batch)")
          XCTAssert(got.pixels == ref.pixels, "pixels differ: threads \(threads) batch \(batch)")
        } else {
          reference = got
        }
      }
    }
  }

  /// --winograd: PyTorch within 1e-4 max abs, and bitwise identical across threads and batch sizes.
  func testWinogradPathMatchesPyTorchAndIsDeterministic() throws {
    for size in [32, 64] {
      let (z, zs) = try NPY.readFloat32(path: fixtureDir + "/z\(size).npy")
      let (want, ws) = try NPY.readFloat32(path: fixtureDir + "/out\(size).npy")
      var reference: [Float]?
      for (threads, batch) in [(2, 4), (1, 1), (2, 10)] {
        let r = try GeneratorRuntime(path: fixtureDir + "/g\(size).safetensors", maxBatch: batch, threads: threads,
                                     winograd: true)
        let got = generateImages(r, z, count: zs[0], batch: batch).images
        XCTAssertLessThanOrEqual(maxAbs(got, nchwToNHWC(want, n: ws[0], c: ws[1], h: ws[2], w: ws[3])), 1e-4,
                                 "\(size) px winograd")
        if let ref = reference { XCTAssert(got == ref,
                                           "\(size) px winograd: threads \(threads) batch \(batch) differs") } else { reference = got }
      }
    }
  }

  func testGenerateAllocatesNothing() throws {
    let r = try GeneratorRuntime(path: fixtureDir + "/g32.safetensors", maxBatch: 8, threads: 2)
    let z = UnsafeMutablePointer<Float>.allocate(capacity: 8 * 100)
    let out = UnsafeMutablePointer<Float>.allocate(capacity: 8 * r.imageElements)
    let px = UnsafeMutablePointer<UInt8>.allocate(capacity: 8 * r.imageElements)
    defer { z.deallocate(); out.deallocate(); px.deallocate() }
    for i in 0..<8 { latent(seed: 1, index: i, into: z + i * 100, nz: 100) }
    r.generate(latents: z, count: 8, output: out, pixels: px)
    let n = heapAllocations { for c in 0..<100 { r.generate(latents: z, count: 1 + c % 8, output: out, pixels: px) } }
    XCTAssertEqual(n, 0, "heap allocations in 100 generate calls")
  }

  func testLatentsArePureFunctionsOfSeedAndIndex() {
    var a = [Float](repeating: 0, count: 100), b = a, c = a
    latent(seed: 3, index: 17, into: &a, nz: 100)
    latent(seed: 3, index: 17, into: &b, nz: 100)
    latent(seed: 3, index: 18, into: &c, nz: 100)
    XCTAssertEqual(a, b)
    XCTAssertNotEqual(a, c)
  }
}

/// gan-gen as users run it.
final class GanGenCLITests: ScratchDirectoryTestCase {
  override var scratchPrefix: String { "gan-gen" }
  var executable: String { Executables.path("gan-gen") }
  func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) { try Executables.run("gan-gen",
      args) }

  func testLatentsInRawOutMatchesPyTorch() throws {
    for size in [32, 64] {
      let r = try run(["--model", fixtureDir + "/g\(size).safetensors", "--latents", fixtureDir + "/z\(size).npy",
                       "--save-raw", dir + "/raw\(size).npy", "--out", dir + "/png\(size)", "--batch", "3"])
      XCTAssertEqual(r.status, 0, r.err)
      let (got, gs) = try NPY.readFloat32(path: dir + "/raw\(size).npy")
      let (want, ws) = try NPY.readFloat32(path: fixtureDir + "/out\(size).npy")
      XCTAssertEqual(gs, ws)
      XCTAssertLessThanOrEqual(maxAbs(got, want), 1e-4, "\(size) px via the CLI")
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/png\(size)").count, 10)
    }
  }

  func testImageIIsTheSameWhateverTheBatchAndFirstIndex() throws {
    let m = fixtureDir + "/g64.safetensors"
    XCTAssertEqual(try run(["--model", m, "--count", "5", "--out", dir + "/a", "--threads", "1"]).status, 0)
    XCTAssertEqual(try run(["--model", m, "--count", "2", "--first-index", "3", "--batch", "1", "--out",
                            dir + "/b"]).status, 0)
    for i in [3, 4] {
      let name = String(format: "image_%06d.png", i)
      XCTAssertEqual(FileManager.default.contents(atPath: dir + "/a/" + name),
                     FileManager.default.contents(atPath: dir + "/b/" + name), name)
    }
    let g = try run(["--model", m, "--count", "12", "--grid", "4", "--out", dir + "/grid.png"])
    XCTAssertEqual(g.status, 0, g.err)
    XCTAssert(FileManager.default.fileExists(atPath: dir + "/grid.png"))
    let i = try run(["--model", m, "--interpolate", "slerp", "--steps", "5", "--grid", "5", "--out", dir + "/walk.png"])
    XCTAssertEqual(i.status, 0, i.err)
    let b = try run(["--model", m, "--bench", "--batch", "2", "--count", "4"])
    XCTAssertEqual(b.status, 0, b.err)
    XCTAssert(b.out.contains("latency per call (ms): p50"), b.out)
    XCTAssert(b.out.contains("kernels: GEMM"), b.out)
    let wb = try run(["--model", m, "--bench", "--batch", "4", "--count", "8", "--winograd"])
    XCTAssertEqual(wb.status, 0, wb.err)
    XCTAssert(wb.out.contains("deconvolutions: ") && wb.out.contains("Winograd F("), wb.out)
  }

  /// An absurd count is an error before anything is allocated, not a crash; a large one streams.
  func testHugeGridIsAClearErrorAndLargeCountsStream() throws {
    let m = fixtureDir + "/g32.safetensors"
    let g = try run(["--model", m, "--count", "4611686018427387904", "--grid", "3", "--out", dir + "/g.png"])
    XCTAssertEqual(g.status, 1, g.err)
    XCTAssertEqual(g.err, "gan-gen: \(dir)/g.png: a grid of 4611686018427387904 images of 32x32 would exceed 1024 MB\n")
    let r = try run(["--model", m, "--count", "300", "--batch", "7", "--save-raw", dir + "/raw.npy", "--out",
                     dir + "/png"])
    XCTAssertEqual(r.status, 0, r.err)
    XCTAssertEqual(try NPY.readHeader(path: dir + "/raw.npy").shape, [300, 1, 32, 32])
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/png").count, 300)
  }

  func header(_ json: String, data: Int) -> Data {
    let h = Array(json.utf8)
    var out: [UInt8] = []
    withUnsafeBytes(of: UInt64(h.count).littleEndian) { out.append(contentsOf: $0) }
    return Data(out + h + [UInt8](repeating: 0, count: data))
  }

  func testBadFilesGiveOneErrorLineAndStatus1() throws {
    let good = try Data(contentsOf: URL(fileURLWithPath: fixtureDir + "/g32.safetensors"))
    let goodHeaderLength = Int(good[0]) | Int(good[1]) << 8 | Int(good[2]) << 16
    var json = String(decoding: good[8..<(8 + goodHeaderLength)], as: UTF8.self)
    let wrongDtype = json.replacingOccurrences(of: "\"main.3.weight\":{\"dtype\":\"F32\"",
                                               with: "\"main.3.weight\":{\"dtype\":\"I32\"")
    json = json.trimmingCharacters(in: .whitespaces)
    func withHeader(_ h: String) -> Data {
      var b = Array(h.utf8)
      while b.count < goodHeaderLength { b.append(0x20) }
      var d = Data(good.prefix(8)); d.append(Data(b)); d.append(good.suffix(from: 8 + goodHeaderLength))
      return d
    }
    let missing = json.replacingOccurrences(of: "\"main.4.running_var\"", with: "\"main.4.running_vaX\"")
    let notDCGAN = header(#"{"main.0.weight":{"dtype":"F32","shape":[4,4,4,4],"data_offsets":[0,1024]}}"#, data: 1024)
    let overlap = header(#"{"main.0.weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"main.1.weight":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: 16)
    let cases: [(String, Data?, String)] = [
      ("truncated", good.prefix(good.count / 2), "outside"),
      ("header-past-end", Data([0x00, 0x10, 0, 0, 0, 0, 0, 0]) + Data("{}".utf8), "runs past the end"),
      ("malformed-json", header("{\"main.0.weight\": {", data: 0), "not valid JSON"),
      ("wrong-dtype", wrongDtype == json ? nil : withHeader(wrongDtype), "is I32, expected F32"),
      ("missing-tensor", withHeader(missing), "missing tensor \"main.4.running_var\""),
      ("not-a-dcgan", notDCGAN, "not a DCGAN"),
      ("overlap", overlap, "overlap"),
      ("empty", Data(), "empty file"),
    ]
    for (name, data, fragment) in cases {
      guard let data = data else { XCTFail("\(name): could not build the case"); continue }
      let path = dir + "/\(name).safetensors"
      FileManager.default.createFile(atPath: path, contents: data)
      let r = try run(["--model", path, "--count", "1", "--out", dir + "/o"])
      XCTAssertEqual(r.status, 1, "\(name): \(r.err)")
      let lines = r.err.split(separator: "\n")
      XCTAssertEqual(lines.count, 1, "\(name): \(r.err)")
      XCTAssert(r.err.hasPrefix("gan-gen: \(path): "), "\(name): \(r.err)")
      XCTAssert(r.err.contains(fragment), "\(name): expected '\(fragment)' in \(r.err)")
    }
    let d = try run(["--model", dir, "--count", "1"])
    XCTAssertEqual(d.status, 1)
    XCTAssert(d.err.contains("not a regular file"), d.err)
    XCTAssertEqual(d.err.split(separator: "\n").count, 1)
  }
}

/// GenerationJob: a batch at a time, the same images, grid and raw file as one big call.
final class GenerationJobTests: XCTestCase {
  func testBatchedJobWritesWhatOneCallGives() throws {
    let dir = NSTemporaryDirectory() + "gen-job-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = fixtureDir + "/g32.safetensors"
    let small = try GeneratorRuntime(path: path, maxBatch: 3, threads: 2)
    let a = small.architecture, count = 10
    try GenerationJob(generator: small, latents: .seed(5, firstIndex: 2, count: count), batch: 3)
      .run(writing: GenerationOutputs(pngFolder: dir + "/png", firstFileIndex: 2, rawPath: dir + "/raw.npy"))
    try GenerationJob(generator: small, latents: .seed(5, firstIndex: 2, count: count), batch: 3)
      .run(writing: GenerationOutputs(gridPath: dir + "/grid.png", gridColumns: 4))
    // One call over all ten latents.
    let big = try GeneratorRuntime(path: path, maxBatch: count, threads: 1)
    var z = [Float](repeating: 0, count: count * a.nz)
    for i in 0..<count { latent(seed: 5, index: 2 + i, into: &z[i * a.nz], nz: a.nz) }
    var images = [Float](repeating: 0, count: count * big.imageElements)
    var pixels = [UInt8](repeating: 0, count: count * big.imageElements)
    big.generate(latents: z, count: count, output: &images, pixels: &pixels)
    let (raw, shape) = try NPY.readFloat32(path: dir + "/raw.npy")
    XCTAssertEqual(shape, [count, a.nc, a.imageSize, a.imageSize])
    XCTAssertEqual(nchwToNHWC(raw, n: count, c: a.nc, h: a.imageSize, w: a.imageSize), images,
                   "raw output bitwise equal")
    let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/png").sorted()
    XCTAssertEqual(names, (2..<12).map { GenerationJob.fileName($0) })
    let grid = try Image.load(path: dir + "/grid.png", channels: a.nc)
    let want = images.withUnsafeBufferPointer { Image.grid(nhwc: $0.baseAddress!, count: count, size: a.imageSize,
                                                           channels: a.nc, columns: 4) }
    XCTAssertEqual(grid, want, "grid from the kernels' pixels equals the grid from the floats")
    let third = try Image.load(path: dir + "/png/" + GenerationJob.fileName(4), channels: a.nc)
    let per = big.imageElements
    XCTAssertEqual(third.pixels, Array(pixels[(2 * per)..<(3 * per)]))
  }

  func testInterpolationInPiecesEqualsTheWholeWalk() {
    let nz = 16
    var a = [Float](repeating: 0, count: nz), b = a
    latent(seed: 1, index: 0, into: &a, nz: nz)
    latent(seed: 1, index: 1, into: &b, nz: nz)
    for slerp in [false, true] {
      var whole = [Float](repeating: 0, count: 7 * nz), pieces = whole
      Interpolation.fill(&whole, from: a, to: b, nz: nz, steps: 7, slerp: slerp)
      for first in stride(from: 0, to: 7, by: 3) {
        let n = min(3, 7 - first)
        pieces.withUnsafeMutableBufferPointer {
          Interpolation.fill($0.baseAddress! + first * nz, from: a, to: b, nz: nz, steps: 7, first: first, count: n,
                             slerp: slerp)
        }
      }
      XCTAssertEqual(whole, pieces)
      XCTAssertEqual(Array(whole[0..<nz]), a)
      for i in 0..<nz { XCTAssertEqual(whole[6 * nz + i], b[i], accuracy: 1e-6) }
    }
  }
}
