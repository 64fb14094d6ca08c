// CGanImageIO: PNG (libpng), JPEG (libjpeg-turbo) and gzip (zlib) for GanImage and GanData.
// Decoders allocate their output with malloc; free it with gi_free. Errors return non-zero and
// write a one-line reason into err.
#ifndef GAN_IMAGEIO_H
#define GAN_IMAGEIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Decodes a PNG or JPEG file (by content) to 8-bit pixels with `channels` (1 gray, 3 RGB) per
/// pixel, row-major. Alpha is composited over white.
int gi_decode_file(const char *path, int channels, uint8_t **pixels, int *width, int *height,
                   char *err, size_t err_len);

/// Writes an 8-bit PNG (channels 1 or 3).
int gi_write_png(const char *path, const uint8_t *pixels, int width, int height, int channels,
                 char *err, size_t err_len);

/// Encodes an 8-bit PNG (channels 1 or 3) into a malloc'ed buffer of `*length` bytes.
int gi_encode_png(const uint8_t *pixels, int width, int height, int channels, uint8_t **png,
                  size_t *length, char *err, size_t err_len);

/// Reads a whole (possibly gzip-compressed) file into a malloc'ed buffer.
int gi_read_gz(const char *path, uint8_t **data, size_t *length, char *err, size_t err_len);

void gi_free(void *p);

#ifdef __cplusplus
}
#endif

#endif
