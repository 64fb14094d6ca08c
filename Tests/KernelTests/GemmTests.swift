import XCTest
import CGemmEdgeShapes
import GanKernels

final class GemmTests: XCTestCase {
  // Edge shapes: the matrix in Tests/CGemmEdgeShapes, which the C kernel driver runs too.
  let edgeShapes = (0..<Int(gemm_edge_shape_count())).map { i -> (m: Int, n: Int, k: Int) in
    let s = gemm_edge_shape_at(Int32(i))
    return (s.m, s.n, s.k)
  }

  func testEveryVariantMatchesReferenceOverEdgeShapes() {
    var rng = TestRandom(seed: 1)
    var cases = 0
    forEachGemmVariant { variant in
      for (m, n, k) in edgeShapes {
        let transposeA = (m + n + k) % 2 == 0
        let transposeB = (m * n + k) % 3 == 0
        let a = rng.array(m * k), b = rng.array(k * n), bias = rng.array(n)
        let c0 = rng.array(m * n)
        let accumulate = k % 2 == 1
        let activation: Activation = [.none, .relu, .leakyRelu(0.2), .tanh][(m + k) % 4]
        var got = c0, want = c0
        var sumGot = [Double](repeating: 0, count: n), sqGot = sumGot
        var sumWant = sumGot, sqWant = sumGot
        let ws = Workspace(bytes: Gemm.workspaceBytes(m: m, n: n, k: k, threads: 2))
        bias.withUnsafeBufferPointer { bp in
          sumGot.withUnsafeMutableBufferPointer { s1 in sqGot.withUnsafeMutableBufferPointer { q1 in
          sumWant.withUnsafeMutableBufferPointer { s2 in sqWant.withUnsafeMutableBufferPointer { q2 in
            let epGot = Epilogue(accumulate: accumulate, bias: bp.baseAddress!, activation: activation,
                                 statistics: (s1.baseAddress!, q1.baseAddress!))
            let epWant = Epilogue(accumulate: accumulate, bias: bp.baseAddress!, activation: activation,
                                  statistics: (s2.baseAddress!, q2.baseAddress!))
            Gemm.run(m: m, n: n, k: k, a: a, transposeA: transposeA, b: b, transposeB: transposeB,
                     c: &got, epilogue: epGot, workspace: ws.pointer, threads: 2)
            Gemm.run(m: m, n: n, k: k, a: a, transposeA: transposeA, b: b, transposeB: transposeB,
                     c: &want, epilogue: epWant, workspace: ws.pointer, threads: 1, reference: true)
          }}}}
        }
        // fp32 sums of k products in a different order: error grows like sqrt(k) * eps * |terms|.
        let tol: Float = 2e-6 * Float(k).squareRoot() + 1e-6
        assertClose(got, want, tolerance: tol,
                    "\(variant.name) m=\(m) n=\(n) k=\(k) tA=\(transposeA) tB=\(transposeB) \(activation)")
        for j in 0..<n {
          XCTAssertEqual(sumGot[j], sumWant[j], accuracy: 1e-4 * (1 + abs(sqWant[j])),
                         "column sum \(variant.name) m=\(m) n=\(n) k=\(k)")
          XCTAssertEqual(sqGot[j], sqWant[j], accuracy: 1e-4 * (1 + sqWant[j]), "column sumsq \(variant.name)")
        }
        cases += 1
      }
    }
    XCTAssertGreaterThanOrEqual(cases, edgeShapes.count)
  }

  func testResultDoesNotDependOnThreadCount() {
    var rng = TestRandom(seed: 2)
    for (m, n, k) in [(300, 70, 600), (1, 2100, 40), (97, 3, 1000)] {
      let a = rng.array(m * k), b = rng.array(k * n)
      var outs: [[Float]] = []
      var sums: [[Double]] = []
      for threads in [1, 2, 3] {
        var c = [Float](repeating: 0, count: m * n)
        var s = [Double](repeating: 0, count: n), q = s
        let ws = Workspace(bytes: Gemm.workspaceBytes(m: m, n: n, k: k, threads: threads))
        s.withUnsafeMutableBufferPointer { sp in q.withUnsafeMutableBufferPointer { qp in
          Gemm.run(m: m, n: n, k: k, a: a, b: b, c: &c,
                   epilogue: Epilogue(statistics: (sp.baseAddress!, qp.baseAddress!)),
                   workspace: ws.pointer, threads: threads)
        }}
        outs.append(c)
        sums.append(s + q)
      }
      assertIdentical(outs[0], outs[1], "m=\(m) n=\(n) k=\(k): 1 vs 2 threads")
      assertIdentical(outs[0], outs[2], "m=\(m) n=\(n) k=\(k): 1 vs 3 threads")
      assertIdentical(sums[0], sums[1], "statistics 1 vs 2 threads")
      assertIdentical(sums[0], sums[2], "statistics 1 vs 3 threads")
    }
  }

  func testEpilogueTanhIsAccurate() {
    var worst: Float = 0
    var x: Float = -12
    while x <= 12 {
      let got = ElementwiseReference.epilogueTanh(x)
      let want = Float(Foundation.tanh(Double(x)))
      worst = max(worst, abs(got - want) / max(abs(want), 1e-30))
      x += 0.000731
    }
    XCTAssertLessThan(worst, 5e-7, "relative error of the epilogue tanh")
    XCTAssertEqual(ElementwiseReference.epilogueTanh(0), 0)
    XCTAssertEqual(ElementwiseReference.epilogueTanh(100), 1)
    XCTAssertEqual(ElementwiseReference.epilogueTanh(-100), -1)
  }
}
