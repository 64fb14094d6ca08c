import FuzzSupport
import GanData

/// The IDX reader (gzip-compressed or not), as gan-train reads Fashion-MNIST.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
  let path = FuzzInput.file(data, count)
  if let images = try? IDX.readImages(path: path) {
    for i in images { precondition(i.pixels.count == i.width * i.height * i.channels) }
  }
  return 0
}
