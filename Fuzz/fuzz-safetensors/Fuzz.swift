import FuzzSupport
import GanModel
import GanRuntime
import GanTraining

/// The safetensors reader and everything that reads a model file: fp32 generators, int8
/// generators (gan-quant's format) and training checkpoints (restored into a trainer of the
/// seed corpus's architecture: 32x32x1, nz 4, ngf 2, ndf 2, batch 2).
let trainer: DCGANTrainer = {
  var c = TrainingConfiguration(architecture: try! Architecture(imageSize: 32, nz: 4, ngf: 2, ndf: 2, nc: 1))
  c.batchSize = 2
  c.threads = 1
  return DCGANTrainer(configuration: c)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
  let path = FuzzInput.file(data, count)
  guard let file = try? SafeTensorsFile(path: path) else { return 0 }
  for e in file.entries { _ = file.rawBytes(e).reduce(0, &+) }  // every entry's bytes lie in the map
  if let g = try? openGenerator(path: path, maxBatch: 1, threads: 1) {
    // A model that loads must also run: one image from a fixed latent.
    let z = [Float](repeating: 0.5, count: g.architecture.nz)
    var out = [Float](repeating: 0, count: g.architecture.imageSize * g.architecture.imageSize * g.architecture.nc)
    z.withUnsafeBufferPointer { zp in
      out.withUnsafeMutableBufferPointer { g.generate(latents: zp.baseAddress!, count: 1, output: $0.baseAddress!,
                                                      pixels: nil) }
    }
  }
  _ = try? trainer.restore(from: file)
  return 0
}
