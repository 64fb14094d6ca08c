import CGanKernels

/// Which algorithm each convolution pass runs, Winograd or direct, per shape and dtype: the one
/// policy table the fp32 runtime, the int8 runtime and the trainer read. (Which ISA variant runs
/// is the kernels' configuration, gk_config(); this is the choice of algorithm above it.)
public enum AlgorithmPolicy {
  /// fp32 inference: the Winograd tile of a ConvTranspose2d(4, 2, 1) on height x height inputs,
  /// or 0 for the direct phase kernels. From per-layer measurements (benchmarks/results-2026-11-24.md,
  /// "Winograd", batch 64, AVX2): it depends on the shape only, never on the batch or thread
  /// count, so a generator's output stays bitwise the same for any --batch and --threads.
  public static func inferenceDeconvolutionTile(height: Int, inChannels: Int, outChannels: Int) -> Int {
    guard outChannels >= 16 else { return 0 }
    if height % 4 == 0 && inChannels >= 128 { return 4 }
    if height % 2 == 0 && inChannels >= 64 { return 2 }
    return 0
  }

  // Training re-derives the transformed weights after every optimizer step, so a pass runs
  // Winograd there only where (runs per iteration) x (time saved per run) exceeds the transform
  // (winograd-probe's "weight transform per step" rows; benchmarks/results-2026-11-24.md, session
  // 4). At batch 64: G2's F(4x4, 2x2) transform (30 ms, 52 MB written) costs more than its one
  // forward saves (12 ms), so G2 takes F(2x2, 2x2). D's passes run three times per iteration, so
  // its transforms amortize. Training runs one batch size, so these may depend on it.
  /// G's hidden deconvolutions (one forward per iteration): `batch` images of height x height.
  public static func trainingDeconvolutionTile(batch: Int, height: Int, inChannels: Int, outChannels: Int) -> Int {
    guard outChannels >= 16, inChannels >= 64 else { return 0 }
    if height % 4 == 0 && batch * height * height >= 4096 { return 4 }
    return height % 2 == 0 ? 2 : 0
  }
  /// D's Conv2d(4, 2, 1) forward on height x height inputs (three per iteration: real, fake, and
  /// fake again for G's step). F(4x4, 2x2) and F(2x2, 2x2) tie on the 256-channel layer, which
  /// takes the smaller transform.
  public static func trainingConvolutionTile(height: Int, inChannels: Int, outChannels: Int) -> Int {
    guard outChannels >= 16, inChannels >= 64 else { return 0 }
    let out = height / 2
    if inChannels < 256 && out % 4 == 0 { return 4 }
    return out % 2 == 0 ? 2 : 0
  }
  /// D's backward-data as a transposed convolution of this shape (three per iteration), as
  /// `tile` but with the largest layer's smaller transform (F(2x2, 2x2)).
  public static func trainingBackwardDataTile(height: Int, inChannels: Int, outChannels: Int) -> Int {
    guard outChannels >= 16 else { return 0 }
    if inChannels >= 512 { return height % 2 == 0 ? 2 : 0 }
    if height % 4 == 0 && inChannels >= 128 { return 4 }
    if height % 2 == 0 && inChannels >= 64 { return 2 }
    return 0
  }

  /// int8 inference: whether a ConvTranspose2d(4, 2, 1) runs as the exact int8 Winograd
  /// F(2x2, 2x2) (bitwise the direct output): where the configured int8 variant has the int16
  /// product it needs (`Int8Kernels.winogradSupported`), on layers wide enough to gain from it.
  public static func int8DeconvolutionWinograd(height: Int, width: Int, inChannels: Int, outChannels: Int) -> Bool {
    Int8Kernels.winogradSupported(height: height, width: width,
                                  inChannels: inChannels) && outChannels > 4 && inChannels >= 128
  }
}
