import ArgumentParser
import GanModel

/// gan-train's flags (those of pytorch/examples dcgan in kebab-case, with the same defaults) and
/// their ranges: a library type, so the flag fuzzer drives the very parser gan-train runs.
public struct GanTrainOptions: ParsableArguments {
  @Option(help: """
            Images: a folder (searched recursively for .png/.jpg/.jpeg), an IDX(.gz) file, a uint8 .npy (N,H,W[,C]), \
            or 'fashion-mnist' (Debian's dataset-fashion-mnist).
            """)
  public var dataroot: String

  @Option(help: """
            Model family: 'dcgan' (Radford et al., pytorch/examples) or 'sagan' (spectral norm on every layer but \
            G's output, self-attention, D without BatchNorm and with LeakyReLU(0.1); tools/sagan_reference.py).
            """)
  public var arch: String = "dcgan"

  @Flag(help: """
          Class-conditional SAGAN: conditional BatchNorm in G, a projection head in D; the fakes take the real \
          batch's classes. Labels come from --labels, or the class subfolders of a folder --dataroot \
          (root/<class>/*.jpg), or the labels file beside IDX images (fashion-mnist: train-labels-idx1-ubyte.gz).
          """)
  public var conditional = false

  @Option(help: "Class labels for --conditional: an IDX labels file (optionally .gz) or a uint8/int64 .npy of N labels.")
  public var labels: String?

  @Option(help: """
            SAGAN: self-attention after the G and D blocks whose output is this many pixels wide, 8 to image-size/2 \
            (a power of two); 0: none.
            """)
  public var attentionAt: Int = 16

  @Option(help: """
            Loss: 'bce' (BCE-with-logits, G non-saturating), 'hinge' (D: E[relu(1 - D(x))] + E[relu(1 + D(G(z)))], \
            G: -E[D(G(z))]), 'wgan-gp' (D: E[D(G(z))] - E[D(x)] + lambda E[(||grad D(xhat)|| - 1)^2] on mixes xhat = \
            a x + (1 - a) G(z), a ~ U(0, 1) per sample, its gradient exact through a double backward; G: -E[D(G(z))]; a \
            DCGAN critic then has no BatchNorm) or 'wasserstein' (the original WGAN: no penalty, critic weights \
            clipped to [-clip, clip] after each step).
            """)
  public var loss: String = "bce"

  @Option(help: "WGAN-GP's penalty weight lambda, 0 to 10^6.")
  public var gpLambda: Float = 10

  @Option(help: "WGAN's weight clipping bound (--loss wasserstein), 1e-6 to 100.")
  public var clip: Float = 0.01

  @Option(help: """
            WGAN-GP's mixing weights from a float32 .npy, batch-size values per D step in order, instead of the seed's \
            (for comparisons with PyTorch).
            """)
  public var mixing: String?

  @Option(help: "D steps per G step, 1 to 100; each D step takes the next real batch and new latents.")
  public var nDis: Int = 1

  @Option(help: "Image side: 32, 64 or 128. Images are centre-cropped and area-resized.")
  public var imageSize: Int = 64

  @Option(help: """
            Channels: 1 (gray) or 3 (RGB). Default: 1 for IDX data, 3 for image folders, the array's own for .npy.
            """)
  public var channels: Int?

  @Option(help: "Input batch size, 1 to 4096.")
  public var batchSize: Int = 64

  @Option(help: "Number of epochs to train for, 1 to 10^9 (an epoch is floor(images / batch-size) iterations).")
  public var niter: Int = 25

  @Option(help: "Total iterations to train, 1 to 10^9 (overrides --niter; counts iterations before a resume).")
  public var iterations: Int?

  @Option(help: "Adam learning rate, 1e-9 to 1.")
  public var lr: Float = 0.0002

  @Option(help: "G's Adam learning rate, 1e-9 to 1 (default: --lr; the SAGAN paper's TTUR uses 1e-4).")
  public var lrG: Float?

  @Option(help: "D's Adam learning rate, 1e-9 to 1 (default: --lr; the SAGAN paper's TTUR uses 4e-4).")
  public var lrD: Float?

  @Option(help: "Adam beta1, 0 to 0.9999 (the SAGAN paper uses 0).")
  public var beta1: Float = 0.5

  @Option(help: "Adam beta2, 0 to 0.9999 (the SAGAN paper uses 0.9).")
  public var beta2: Float = 0.999

  @Option(help: "Size of the latent z vector, 1 to 4096.")
  public var nz: Int = 100

  @Option(help: "Generator feature maps (the last hidden layer's channels), 1 to 1024.")
  public var ngf: Int = 64

  @Option(help: "Discriminator feature maps (the first layer's channels), 1 to 1024.")
  public var ndf: Int = 64

  @Option(help: "Seed for weights, latents, fixed noise and data order (default: random, printed).")
  public var manualSeed: UInt64?

  @Option(help: "Folder for images, logs, report and model files.")
  public var outf: String = "."

  @Option(help: "Compute threads, 1 to 1024 (default: all cores). Results are identical for any count.")
  public var threads: Int?

  @Flag(help: "Continue from <outf>/checkpoint.safetensors exactly where it stopped.")
  public var resume = false

  @Option(name: .customLong("init"),
          help: """
            Start from the G and D weights in this safetensors file (names G.main.N... / D.main.N..., as in \
            checkpoint.safetensors; SAGAN: tools/sagan_reference.py's G.blocks.N.conv.weight_orig, ...).
            """)
  public var initFile: String?

  @Option(help: "Write a fixed-noise grid every N iterations, 1 to 10^9 (and at every epoch end).")
  public var sampleEvery: Int = 500

  @Option(help: "Write checkpoint.safetensors every N iterations, 1 to 10^9 (and at the end, and on SIGINT/SIGTERM).")
  public var checkpointEvery: Int = 500

  @Flag(help: "Keep the data in file order instead of reshuffling every epoch.")
  public var noShuffle = false

  @Option(help: """
            Training latents from a float32 .npy of shape (N, nz) or (N, nz, 1, 1): batch-size rows per iteration, in \
            order.
            """)
  public var noise: String?

  @Option(help: """
            Sliced Wasserstein distance (ProGAN) of generated against held-out real images every N iterations, in \
            log.csv and report.html, 0 to 10^9 (0: off).
            """)
  public var swdEvery: Int = 500

  @Option(help: """
            Images in the SWD sets, 1 to 65536: the dataset's last N images are held out of training (needs at least 4N images).
            """)
  public var swdImages: Int = 512

  @Flag(inversion: .prefixedNo, help: """
          DCGAN's default: G's hidden deconvolutions (forward, BatchNorm statistics fused), D's convolutions \
          (forward) and D's backward-data run as Winograd convolutions on the layers where they pay in training (a \
          per-shape table; the transformed weights are re-derived after every optimizer step). --no-winograd runs \
          the direct kernels everywhere (results differ within rounding; both are independent of --threads). \
          SAGAN always runs direct (spectral norm changes the weights at every step).
          """)
  public var winograd: Bool?

  /// Whether training runs the Winograd passes: --winograd / --no-winograd, else on for DCGAN.
  public var useWinograd: Bool { winograd ?? (arch == ModelFamily.dcgan.rawValue) }

  @Option(help: """
            Also write the generator (BN statistics re-estimated, as at the end) to \
            <outf>/snapshots/generator_iter_NNNNNNN.safetensors every N iterations, for evaluating a run along the way \
            (0 to 10^9; 0: off).
            """)
  public var snapshotEvery: Int = 0

  @Flag(help: """
          Whenever the in-loop SWD (--swd-every) improves on the best so far, write <outf>/generator_best.safetensors \
          (BN statistics re-estimated, as at the end).
          """)
  public var keepBest = false

  @Option(help: "Folder of the decoded-dataset cache (default: $XDG_CACHE_HOME/swift-gan or ~/.cache/swift-gan).")
  public var cacheDir: String?

  public init() {}

  /// Every numeric flag has a range (FlagRange, listed in the README); outside it is a usage error.
  public func validate() throws {
    guard Architecture.supportedImageSizes.contains(imageSize) else {
      throw ValidationError("--image-size must be 32, 64 or 128")
    }
    try checkFlag("batch-size", batchSize, FlagRange.trainingBatch)
    if let c = channels, c != 1 && c != 3 { throw ValidationError("--channels must be 1 or 3") }
    if let t = threads { try checkFlag("threads", t, FlagRange.threads) }
    try checkFlag("niter", niter, FlagRange.iterations)
    if let n = iterations { try checkFlag("iterations", n, FlagRange.iterations) }
    try checkFlag("lr", lr, FlagRange.learningRate)
    try checkFlag("beta1", beta1, FlagRange.beta)
    try checkFlag("beta2", beta2, FlagRange.beta)
    if let v = lrG { try checkFlag("lr-g", v, FlagRange.learningRate) }
    if let v = lrD { try checkFlag("lr-d", v, FlagRange.learningRate) }
    try checkFlag("n-dis", nDis, FlagRange.criticSteps)
    guard let family = ModelFamily(rawValue: arch) else { throw ValidationError("--arch must be 'dcgan' or 'sagan'") }
    guard ["bce", "hinge", "wgan-gp", "wasserstein"].contains(loss) else {
      throw ValidationError("--loss must be 'bce', 'hinge', 'wgan-gp' or 'wasserstein'")
    }
    try checkFlag("gp-lambda", gpLambda, FlagRange.penaltyWeight)
    try checkFlag("clip", clip, FlagRange.clip)
    if mixing != nil && loss != "wgan-gp" { throw ValidationError("--mixing needs --loss wgan-gp") }
    if family == .dcgan {
      if conditional { throw ValidationError("--conditional needs --arch sagan") }
    } else {
      guard attentionAt == 0 || (attentionAt >= 8 && attentionAt <= imageSize / 2 && attentionAt & (attentionAt - 1) == 0)
      else {
        throw ValidationError("--attention-at \(attentionAt): expected 0 or a power of two from 8 to \(imageSize / 2)")
      }
      if winograd == true {
        throw ValidationError("--winograd is for --arch dcgan (spectral norm changes the weights at every step)")
      }
    }
    if labels != nil && !conditional { throw ValidationError("--labels needs --conditional") }
    if keepBest && swdEvery == 0 { throw ValidationError("--keep-best needs the in-loop SWD (--swd-every > 0)") }
    try checkFlag("nz", nz, FlagRange.nz)
    try checkFlag("ngf", ngf, FlagRange.featureMaps)
    try checkFlag("ndf", ndf, FlagRange.featureMaps)
    try checkFlag("sample-every", sampleEvery, FlagRange.iterations)
    try checkFlag("checkpoint-every", checkpointEvery, FlagRange.iterations)
    try checkFlag("snapshot-every", snapshotEvery, FlagRange.period)
    try checkFlag("swd-every", swdEvery, FlagRange.period)
    try checkFlag("swd-images", swdImages, FlagRange.swdImages)
    if resume && initFile != nil { throw ValidationError("--resume and --init exclude each other") }
  }
}
