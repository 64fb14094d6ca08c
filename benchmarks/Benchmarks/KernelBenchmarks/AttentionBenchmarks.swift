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
  // Conditional BatchNorm backward and the projection head at batch 64, 10 classes: G's 16x16x128
  // block (64 px) and D's last 4x4x512 map.
  do {
    let (n, classes) = (64, 10)
    let labels = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    for i in 0..<n { labels[i] = Int32(i % classes) }
    let (p, c) = (256, 128)
    let x = FloatBuffer(n * p * c), y = FloatBuffer(n * p * c), dy = FloatBuffer(n * p * c), dx = FloatBuffer(n * p * c)
    let gain = FloatBuffer(classes * c), dg = FloatBuffer(classes * c), db = FloatBuffer(classes * c)
    let mean = FloatBuffer(c), rstd = FloatBuffer(c, fill: 0.02)
    let scratch = UnsafeMutablePointer<Double>.allocate(capacity: (2 * n + 2) * c)
    timed("cbn backward G 16x16x128 B64", flops: 0) {
      ConditionalBatchNorm.backward(images: n, rowsPerImage: p, channels: c, classes: classes, labels: labels,
                                    x: x.pointer, y: y.pointer, dy: dy.pointer, mean: mean.pointer, rstd: rstd.pointer,
                                    gain: gain.pointer, activation: .relu, dx: dx.pointer, dgain: dg.pointer,
                                    dbias: db.pointer, accumulate: false, scratch: scratch)
    }
    let (hp, hc) = (16, 512)
    let h = FloatBuffer(n * hp * hc), dh = FloatBuffer(n * hp * hc), embed = FloatBuffer(classes * hc)
    let de = FloatBuffer(classes * hc), logit = FloatBuffer(n), dl = FloatBuffer(n)
    timed("projection forward+backward D 4x4x512 B64", flops: 0) {
      ProjectionHead.forward(images: n, positions: hp, channels: hc, labels: labels, h: h.pointer, embed: embed.pointer,
                             logit: logit.pointer)
      ProjectionHead.backward(images: n, positions: hp, channels: hc, labels: labels, h: h.pointer, embed: embed.pointer,
                              dlogit: dl.pointer, dh: dh.pointer, accumulate: false, dembed: de.pointer)
    }
    // Conditional BatchNorm applied per image with each class's row (G's 16x16x128 block).
    let scale = FloatBuffer(classes * c), shift = FloatBuffer(classes * c)
    timed("cbn apply G 16x16x128 B64", flops: 0) {
      ConditionalBatchNorm.apply(images: n, rowsPerImage: p, channels: c, x: x.pointer, scale: scale.pointer,
                                 shift: shift.pointer, rows: labels, activation: .relu, y: y.pointer)
    }
    timed("cbn apply c-ref G 16x16x128 B64", flops: 0) {
      ConditionalBatchNorm.apply(images: n, rowsPerImage: p, channels: c, x: x.pointer, scale: scale.pointer,
                                 shift: shift.pointer, rows: labels, activation: .relu, y: y.pointer, reference: true)
    }
    // The attention block's passes at 64 px, G's 16x16x128 block, batch 64: the residual
    // gamma * o + x, gamma's gradient (a dot product), the query bias gradient (column sums).
    let (rows, q) = (n * p, 16)
    let dq = FloatBuffer(rows * q), bias = FloatBuffer(q)
    for reference in [false, true] {
      let tag = reference ? " c-ref" : ""
      timed("attention residual scale-add\(tag) 16x16x128 B64", flops: Double(2 * rows * c)) {
        AttentionPasses.scaleAdd(count: rows * c, alpha: 0.3, x: x.pointer, y: dy.pointer, out: dx.pointer,
                                 reference: reference)
      }
      timed("attention gamma gradient dot\(tag) 16x16x128 B64", flops: Double(2 * rows * c)) {
        _ = AttentionPasses.dot(count: rows * c, x.pointer, dy.pointer, reference: reference)
      }
      timed("attention query bias column sums\(tag) 16384x16", flops: Double(rows * q)) {
        AttentionPasses.columnSums(rows: rows, columns: q, x: dq.pointer, out: bias.pointer, accumulate: false,
                                   reference: reference)
      }
    }
  }
}
