import Benchmark
import GanKernels

/// SAGAN kernels on the real shapes: self-attention forward and backward at batch 1 and 64
/// (MFLOP/s counts the GEMMs' multiply-adds x 2, not the softmax), the row softmax alone at
/// batch 64, and spectral norm's power iteration + sigma and its gradient on G2's and D4's weights.
func attentionBenchmarks() {
  for (name, p, cq, cv) in DCGAN64.attentionLayers {
    for batch in DCGAN64.batches {
      let s = AttentionShape(batch: batch, positions: p, keyChannels: cq, valueChannels: cv)
      let nq = batch * p * cq, nv = batch * p * cv
      let q = FloatBuffer(nq), k = FloatBuffer(nq), v = FloatBuffer(nv), o = FloatBuffer(nv), g = FloatBuffer(nv)
      let attn = FloatBuffer(s.mapCount), ds = FloatBuffer(s.mapCount)
      let dq = FloatBuffer(nq), dk = FloatBuffer(nq), dv = FloatBuffer(nv)
      let ws = RawBuffer(bytes: SelfAttention.workspaceBytes(s, threads: threads))
      let pp = Double(batch * p * p)
      timed("attention forward \(name) B\(batch)", flops: 2 * pp * Double(cq + cv)) {
        SelfAttention.forward(s, q: q.pointer, k: k.pointer, v: v.pointer, attn: attn.pointer, o: o.pointer,
                              workspace: ws.pointer, threads: threads)
      }
      timed("attention backward \(name) B\(batch)", flops: 4 * pp * Double(cq + cv)) {
        SelfAttention.backward(s, q: q.pointer, k: k.pointer, v: v.pointer, attn: attn.pointer, dout: g.pointer,
                               ds: ds.pointer, dq: dq.pointer, dk: dk.pointer, dv: dv.pointer,
                               workspace: ws.pointer, threads: threads)
      }
      if batch == 64 {
        timed("softmax rows \(name) B64", flops: 0) {
          Softmax.rows(batch * p, p, x: attn.pointer, y: ds.pointer, threads: threads)
        }
      }
    }
  }
  for (name, cin, cout) in [("G2", 512, 256), ("D4", 256, 512)] {
    let m = SpectralMatrix.kkio(inChannels: cin, outChannels: cout)
    let w = FloatBuffer(m.rows * m.columns), wsn = FloatBuffer(m.rows * m.columns), dw = FloatBuffer(m.rows * m.columns)
    let u = FloatBuffer(m.rows), v = FloatBuffer(m.columns), scratch = FloatBuffer(m.rows)
    let matrixFlops = 2.0 * Double(m.rows * m.columns)
    timed("spectral norm power iteration \(name) \(m.rows)x\(m.columns)", flops: 2 * matrixFlops) {
      _ = SpectralNorm.sigma(m, w: w.pointer, u: u.pointer, v: v.pointer, update: true, scratch: scratch.pointer,
                             normalized: wsn.pointer)
    }
    timed("spectral norm backward \(name) \(m.rows)x\(m.columns)", flops: matrixFlops) {
      SpectralNorm.backward(m, w: w.pointer, u: u.pointer, v: v.pointer, sigma: 1.5, dNormalized: wsn.pointer,
                            dw: dw.pointer, accumulate: true)
    }
  }
}
