import FuzzSupport
import GanModel

/// The .npy reader: the header parser on the bytes, then each typed reader on the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
  _ = try? NPY.parseHeader(Array(UnsafeBufferPointer(start: data, count: count)), path: "input")
  let path = FuzzInput.file(data, count)
  if let (v, shape) = try? NPY.readFloat32(path: path) {
    precondition(v.count == shape.reduce(1, *), "float32 values do not match the shape")
  }
  if let (v, shape) = try? NPY.readUInt8(path: path) {
    precondition(v.count == shape.reduce(1, *), "uint8 values do not match the shape")
  }
  if let l = try? NPY.readLatents(path: path) { precondition(l.values.count == l.count * l.nz) }
  _ = try? NPY.readHeader(path: path)
  return 0
}
