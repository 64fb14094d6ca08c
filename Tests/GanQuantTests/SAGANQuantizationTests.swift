import Foundation
import GanKernels
import GanModel
import GanQuant
import GanRuntime
import GanTestSupport
import XCTest

/// gan-quant on SAGAN generators (GanRuntimeTests' PyTorch fixtures: a conditional 32 px RGB one
/// and an unconditional 64 px gray one, attention after the 16 px block): convolutions in int8,
/// spectral norm folded, conditional BatchNorm and attention in fp32, as the report says.
final class SAGANQuantizationTests: ScratchDirectoryTestCase {
  override var scratchPrefix: String { "gan-quant-sagan" }

  func quantize(_ name: String, keep: Set<Int> = []) throws -> (fp32: String, int8: String, report: QuantizationReport) {
    var o = QuantizationOptions()
    o.calibrationBatches = 2
    o.bnReestimationBatches = 0
    o.keepFP32 = keep
    o.threads = 2
    let input = fixtureDir + "/\(name).safetensors", path = dir + "/\(name)-\(keep.sorted()).safetensors"
    return (input, path, try quantizeGenerator(input: input, output: path, options: o))
  }

  func labels(_ count: Int, classes: Int) -> [Int32]? {
    classes == 0 ? nil : (0..<count).map { Int32($0 % classes) }
  }

  /// The report's PSNR recomputed from the files (fp32 runtime against the int8 one over the
  /// same latents and classes), attention and conditional BatchNorm named in its notes, and the
  /// int8 output bitwise identical across threads and batch sizes.
  func testQuantizedSAGANMatchesFP32AndIsDeterministic() throws {
    for name in ["sagan_eval_cond32", "sagan_eval_uncond64"] {
      for keep: Set<Int> in [[], [1]] {
        let (input, path, report) = try quantize(name, keep: keep)
        let fp32 = try GeneratorRuntime(path: input, maxBatch: 64, threads: 2)
        let a = fp32.architecture
        XCTAssert(report.notes.contains { $0.contains("self-attention after G3") && $0.contains("fp32") }, "\(report.notes)")
        XCTAssertEqual(report.notes.contains { $0.contains("conditional BatchNorm") }, a.isConditional)
        XCTAssert(report.text.contains("kept in fp32"))
        let z = evaluationLatents(seed: 0, count: 256, nz: a.nz), y = labels(256, classes: a.classes)
        let want = generateImages(fp32, z, labels: y, count: 256, batch: 64).images
        var reference: [Float]?
        for (threads, batch) in [(2, 64), (1, 7), (2, 1)] {
          let q = try openGenerator(path: path, maxBatch: batch, threads: threads)
          XCTAssert(q is Int8GeneratorRuntime)
          XCTAssertEqual(q.architecture, a)
          let got = generateImages(q, z, labels: y, count: 256, batch: batch).images
          if let r = reference {
            XCTAssert(got == r, "\(name) keep \(keep): threads \(threads) batch \(batch) not bitwise equal")
          } else {
            reference = got
            var se = 0.0
            for (u, v) in zip(got, want) { let d = Double(u - v); se += d * d }
            let psnr = 10 * log10(4 / (se / Double(got.count)))
            print("gan-quant \(name) keep \(keep.sorted()): int8 vs fp32 PSNR \(psnr) dB (report \(report.psnrDB))")
            XCTAssertEqual(report.psnrDB, psnr, accuracy: 0.01)
            XCTAssertGreaterThan(psnr, 30, "\(name) int8 PSNR")
          }
        }
      }
    }
  }

  func testInt8SAGANGenerateAllocatesNothing() throws {
    let (_, path, _) = try quantize("sagan_eval_cond32")
    let r = try openGenerator(path: path, maxBatch: 8, threads: 2)
    XCTAssertEqual(r.classNames, ["0", "1", "2"])
    let z = evaluationLatents(seed: 1, count: 8, nz: r.architecture.nz), y = labels(8, classes: 3)!
    let out = UnsafeMutablePointer<Float>.allocate(capacity: 8 * r.imageElements)
    let px = UnsafeMutablePointer<UInt8>.allocate(capacity: 8 * r.imageElements)
    defer { out.deallocate(); px.deallocate() }
    z.withUnsafeBufferPointer { zp in y.withUnsafeBufferPointer { yp in
      r.generate(latents: zp.baseAddress!, labels: yp.baseAddress!, count: 8, output: out, pixels: px)
      let n = heapAllocations {
        for c in 0..<50 { r.generate(latents: zp.baseAddress!, labels: yp.baseAddress!, count: 1 + c % 8, output: out,
                                     pixels: px) }
      }
      XCTAssertEqual(n, 0, "heap allocations in 50 int8 SAGAN generate calls")
    }}
  }
}
