import GanKernels
import GanModel
import GanRuntime
import GanTestSupport
import XCTest

/// gan-gen's runtime on SAGAN generators against PyTorch's eval mode (tools/sagan_reference.py
/// eval_fixture: a state_dict as a user saves it, no metadata; spectral norm with the stored u and
/// v, BatchNorm with running statistics, attention with gamma 0.7): a conditional 32 px RGB model
/// and an unconditional 64 px gray one.
final class SAGANRuntimeTests: XCTestCase {
  func fixture(_ name: String) throws -> (path: String, z: [Float], labels: [Int32], want: [Float], count: Int) {
    let path = fixtureDir + "/\(name).safetensors"
    let f = try SafeTensorsFile(path: path)
    let out = f.entry("test.output")!.shape
    let want = nchwToNHWC(try f.floats("test.output"), n: out[0], c: out[1], h: out[2], w: out[3])
    return (path, try f.floats("test.z"), try f.floats("test.labels").map { Int32($0) }, want, out[0])
  }

  func testMatchesPyTorchEvalModeAndIsDeterministic() throws {
    for name in ["sagan_eval_cond32", "sagan_eval_uncond64"] {
      let t = try fixture(name)
      var reference: [Float]?
      for (threads, batch, winograd) in [(1, 5, false), (2, 2, false), (2, 1, false), (2, 5, true), (1, 3, true)] {
        let r = try GeneratorRuntime(path: t.path, maxBatch: batch, threads: threads, winograd: winograd)
        XCTAssert(r.architecture.isSAGAN)
        XCTAssertEqual(r.architecture.isConditional, name.contains("cond32"))
        XCTAssertEqual(r.architecture.attentionAt, 16)
        let got = generateImages(r, t.z, labels: r.architecture.isConditional ? t.labels : nil, count: t.count,
                                 batch: batch)
        let err = maxAbs(got.images, t.want)
        print("gan-gen vs PyTorch eval mode, \(name), threads \(threads), batch \(batch)\(winograd ? ", winograd" : ""): " +
              "max abs error \(err)")
        XCTAssertLessThanOrEqual(err, 1e-4, "\(name) threads \(threads) batch \(batch) winograd \(winograd)")
        if winograd { continue }
        if let ref = reference {
          XCTAssert(got.images == ref, "\(name): threads \(threads) batch \(batch) not bitwise equal")
        } else {
          reference = got.images
        }
      }
    }
  }

  /// A class changes the image; the same class and latent give the same image in any batch.
  func testClassesSelectImages() throws {
    let t = try fixture("sagan_eval_cond32")
    let r = try GeneratorRuntime(path: t.path, maxBatch: 3, threads: 2)
    XCTAssertEqual(r.classNames, ["0", "1", "2"])
    let z = Array(t.z[0..<(r.architecture.nz)])
    let images = generateImages(r, z + z + z, labels: [0, 1, 2], count: 3, batch: 3).images
    let n = r.imageElements
    XCTAssertNotEqual(Array(images[0..<n]), Array(images[n..<(2 * n)]))
    XCTAssertNotEqual(Array(images[n..<(2 * n)]), Array(images[(2 * n)...]))
    let alone = generateImages(r, z, labels: [2], count: 1, batch: 1).images
    XCTAssertEqual(alone, Array(images[(2 * n)...]))
  }

  func testGenerateAllocatesNothing() throws {
    let t = try fixture("sagan_eval_cond32")
    let r = try GeneratorRuntime(path: t.path, maxBatch: 5, threads: 2)
    let out = UnsafeMutablePointer<Float>.allocate(capacity: 5 * r.imageElements)
    let px = UnsafeMutablePointer<UInt8>.allocate(capacity: 5 * r.imageElements)
    defer { out.deallocate(); px.deallocate() }
    t.z.withUnsafeBufferPointer { z in t.labels.withUnsafeBufferPointer { l in
      r.generate(latents: z.baseAddress!, labels: l.baseAddress!, count: 5, output: out, pixels: px)
      let n = heapAllocations {
        for c in 0..<50 { r.generate(latents: z.baseAddress!, labels: l.baseAddress!, count: 1 + c % 5, output: out,
                                     pixels: px) }
      }
      XCTAssertEqual(n, 0, "heap allocations in 50 SAGAN generate calls")
    }}
  }

  /// Damaged SAGAN files: one clear error each.
  func testBadFilesAreRefused() throws {
    let t = try fixture("sagan_eval_cond32")
    let f = try SafeTensorsFile(path: t.path)
    let dir = NSTemporaryDirectory() + "sagan-bad-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    func write(_ name: String, dropping drop: String? = nil, reshaping: String? = nil) throws -> String {
      var w = SafeTensorsWriter()
      for e in f.entries where e.name != drop && e.dtype == .F32 {
        let v = try f.floats(e.name)
        w.add(e.name, floats: v, shape: e.name == reshaping ? [v.count] : e.shape)
      }
      let path = dir + "/" + name
      try w.write(to: path)
      return path
    }
    let missing = try write("missing.safetensors", dropping: "attention.key.weight_u")
    XCTAssertThrowsError(try GeneratorRuntime(path: missing, maxBatch: 1, threads: 1)) { e in
      XCTAssert("\(e)".contains("attention.key.weight_u"), "\(e)")
    }
    let reshaped = try write("reshaped.safetensors", reshaping: "blocks.1.bn.gain.weight")
    XCTAssertThrowsError(try GeneratorRuntime(path: reshaped, maxBatch: 1, threads: 1)) { e in
      XCTAssert("\(e)".contains("blocks.1.bn.gain.weight"), "\(e)")
    }
  }
}
