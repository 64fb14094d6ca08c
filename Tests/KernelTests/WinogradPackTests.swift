import GanKernels
import XCTest

/// The fused Winograd weight packer (one pass, threads over phase x panel x row block) against the
/// reference (transform into a scratch, then the GEMM's pack): the same bits, padding included,
/// for every GEMM variant's panel width, both tiles, the deconvolution, its transposed
/// (backward-data) form and the convolution, K across a GEMM K block (256 rows), channel counts
/// that leave partial panels and partial row blocks, and 1, 2 and 3 threads.
final class WinogradPackTests: XCTestCase {
  private func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }

  func testFusedPackerMatchesReferenceBitForBit() {
    var rng = TestRandom(seed: 19)
    forEachGemmVariant { v in
      for tile in WinogradDeconv4s2.tiles {
        for (ci, co) in [(1, 1), (3, 17), (16, 16), (17, 40), (64, 33), (300, 20), (70, 129)] {
          let wt = rng.array(16 * ci * co)
          for transposed in [false, true] {
            let count = WinogradDeconv4s2.packedCount(tile: tile, inChannels: ci, outChannels: co)
            var want = [Float](repeating: .nan, count: count)
            var scratch = [Float](repeating: 0, count: WinogradDeconv4s2.scratchCount(tile: tile, inChannels: ci,
                                                                                      outChannels: co))
            WinogradDeconv4s2.packWeightsReference(tile: tile, inChannels: ci, outChannels: co, weights: wt,
                                                   transposed: transposed, into: &want, scratch: &scratch)
            for threads in [1, 2, 3] {
              var got = [Float](repeating: .nan, count: count)
              WinogradDeconv4s2.packWeights(tile: tile, inChannels: ci, outChannels: co, weights: wt,
                                            transposed: transposed, into: &got, threads: threads)
              assertIdentical(bits(got), bits(want),
                             "\(v.name) F(\(tile)) deconv \(ci)->\(co) transposed \(transposed), \(threads) threads")
            }
          }
          let count = WinogradConv4s2.packedCount(tile: tile, inChannels: ci, outChannels: co)
          var want = [Float](repeating: .nan, count: count)
          var scratch = [Float](repeating: 0, count: WinogradConv4s2.scratchCount(tile: tile, inChannels: ci,
                                                                                  outChannels: co))
          WinogradConv4s2.packWeightsReference(tile: tile, inChannels: ci, outChannels: co, weights: wt, into: &want,
                                               scratch: &scratch)
          XCTAssertFalse(want.contains { $0.isNaN }, "reference writes every packed float")
          for threads in [1, 2, 3] {
            var got = [Float](repeating: .nan, count: count)
            WinogradConv4s2.packWeights(tile: tile, inChannels: ci, outChannels: co, weights: wt, into: &got,
                                        threads: threads)
            assertIdentical(bits(got), bits(want), "\(v.name) F(\(tile)) conv \(ci)->\(co), \(threads) threads")
          }
        }
      }
    }
  }
}
