// Decoding only the part of a JPEG that a resize-then-crop reads (decoder.h): libjpeg's
// scanline API skips the rows above the region (entropy-decoded but not transformed), stops
// after its last row, and crops each row to the iMCU columns that cover the region. The
// settings are the ones TurboJPEG's tjDecompress2 uses for the whole-image path (ISLOW IDCT,
// fancy upsampling, RGB out), so the region's pixels are the whole decode's. The upsampler
// treats a cropped edge like the image's edge, so the region is widened by kMargin pixels on
// every side that is not the image's: the pixels the caller reads are never edge pixels.
#include <turbojpeg.h>

#include <csetjmp>
#include <cstdio>
#include <string>

// jpeglib.h needs size_t and FILE first.
#include <jerror.h>
#include <jpeglib.h>

#include "decoder.h"

namespace sluice::image {
namespace {

constexpr int kMargin = 16;  // one iMCU of 2x2 subsampling

struct ErrorManager {
  jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated;
};

void OnError(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  longjmp(e->jump, 1);
}

void OnMessage(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages
  auto* e = reinterpret_cast<ErrorManager*>(cinfo->err);
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) e->truncated = true;
  ++cinfo->err->num_warnings;
}

/// Rows [y0, y0 + h) of the JPEG, cropped to at least columns [x0, x0 + w), into `out` (room
/// for the full width). Only plain C objects live in this frame across setjmp. False: an error
/// (in em->message). *got_x0 / *got_w: the columns decoded (widened to iMCU boundaries).
bool DecodeRows(const unsigned char* data, unsigned long size, JDIMENSION x0, JDIMENSION w, JDIMENSION y0, JDIMENSION h, unsigned char* out,
                ErrorManager* em, JDIMENSION* got_x0, JDIMENSION* got_w) {
  jpeg_decompress_struct cinfo;
  cinfo.err = jpeg_std_error(&em->pub);
  em->pub.error_exit = OnError;
  em->pub.emit_message = OnMessage;
  em->truncated = false;
  em->message[0] = '\0';
  if (setjmp(em->jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, size);
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&cinfo);
  JDIMENSION xoff = x0, cw = w;
  if (x0 > 0 || w < cinfo.output_width) jpeg_crop_scanline(&cinfo, &xoff, &cw);
  if (y0 > 0 && jpeg_skip_scanlines(&cinfo, y0) != y0) {
    snprintf(em->message, sizeof(em->message), "could not skip to row %u", static_cast<unsigned>(y0));
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  const size_t stride = static_cast<size_t>(cw) * 3;
  for (JDIMENSION r = 0; r < h;) {
    JSAMPROW row = out + r * stride;
    const JDIMENSION got = jpeg_read_scanlines(&cinfo, &row, 1);
    if (got == 0) {
      snprintf(em->message, sizeof(em->message), "no data for row %u", static_cast<unsigned>(y0 + r));
      jpeg_destroy_decompress(&cinfo);
      return false;
    }
    r += got;
  }
  jpeg_abort_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  *got_x0 = xoff;
  *got_w = cw;
  return true;
}

}  // namespace

bool Decoder::ReadJpegInfo(std::string_view bytes, JpegInfo* info) {
  if (SniffFormat(bytes) != ImageFormat::kJpeg) return false;
  auto tj = static_cast<tjhandle>(tj_);
  int w = 0, h = 0, subsamp = 0, colorspace = 0;
  if (!tj || tjDecompressHeader3(tj, reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<unsigned long>(bytes.size()), &w, &h,
                                 &subsamp, &colorspace) != 0) {
    tjDestroy(tj);  // a failed read leaves state in the handle (see DecodeJpeg)
    tj_ = tjInitDecompress();
    return false;
  }
  info->width = w;
  info->height = h;
  info->cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  info->ends_with_eoi = bytes.size() >= 2 && static_cast<uint8_t>(bytes[bytes.size() - 2]) == 0xff && static_cast<uint8_t>(bytes.back()) == 0xd9;
  return w > 0 && h > 0;
}

Status Decoder::DecodeJpegRegion(std::string_view bytes, const DecodeOptions& options, const Window& region, DecodedImage* out) {
  JpegInfo info;
  if (!ReadJpegInfo(bytes, &info)) return Decode(bytes, options, out);  // the whole-image path names the problem
  if (info.cmyk) return Status::InvalidArgument("a region decode of a CMYK JPEG");
  if (static_cast<int64_t>(info.width) * info.height > options.max_pixels) {
    return Status::InvalidData("JPEG of " + std::to_string(info.width) + "x" + std::to_string(info.height) + " pixels exceeds the limit of " +
                               std::to_string(options.max_pixels));
  }
  const int x0 = std::max(0, region.x0 - kMargin), x1 = std::min(info.width, region.x0 + region.w + kMargin);
  const int y0 = std::max(0, region.y0 - kMargin), y1 = std::min(info.height, region.y0 + region.h + kMargin);
  if (x0 >= x1 || y0 >= y1) return Status::InvalidArgument("an empty JPEG region");
  out->pixels.resize(static_cast<size_t>(info.width) * (y1 - y0) * 3);
  ErrorManager em;
  JDIMENSION got_x0 = 0, got_w = 0;
  if (!DecodeRows(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<unsigned long>(bytes.size()), static_cast<JDIMENSION>(x0),
                  static_cast<JDIMENSION>(x1 - x0), static_cast<JDIMENSION>(y0), static_cast<JDIMENSION>(y1 - y0), out->pixels.data(), &em, &got_x0,
                  &got_w)) {
    return Status::InvalidData(std::string("corrupt JPEG: ") + em.message);
  }
  if (em.truncated) return Status::InvalidData("truncated JPEG: Premature end of JPEG file");
  out->width = info.width;
  out->height = info.height;
  out->x0 = static_cast<int>(got_x0);
  out->y0 = y0;
  out->region_width = static_cast<int>(got_w);
  out->region_height = y1 - y0;
  return Status::OK();
}

}  // namespace sluice::image
