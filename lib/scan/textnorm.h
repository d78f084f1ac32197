/*
 * ClamAV's text normalisations, which the text targets are matched against:
 *   target 7 (ASCII) signatures see textnorm_ascii()'s output only;
 *   target 3 (HTML) signatures see textnorm_html()'s output (ClamAV's
 *   "nocomment.html"); target 0 signatures see the normalised forms too.
 * The rules were established with clamscan 1.4.6; see
 * docs/internals/containers.md, "Normalisation".
 */
#ifndef WARD_SCAN_TEXTNORM_H
#define WARD_SCAN_TEXTNORM_H

#include <stddef.h>
#include <stdint.h>

#include "ward/ward.h"

/* Normalise text for target 7: A-Z lowercased; each run of TAB LF VT FF CR
 * and space becomes one space; bytes 0x00-0x08, 0x0e-0x1f and 0x80-0xff are
 * dropped (and do not end a run of white space); everything else is copied.
 * The output is never longer than the input, so cap >= len always suffices.
 * Writes at most cap bytes to out and sets *outlen. Returns WARD_OK, or
 * WARD_ELIMIT when the output was cut at cap (out holds the first cap bytes),
 * or WARD_EINVAL on NULL arguments. in may be NULL when len is 0. */
ward_err textnorm_ascii(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
			size_t *outlen) WARD_WUR;

/* Normalise HTML for target 3 the way ClamAV writes nocomment.html: comments
 * and <!...> declarations removed, tags and text lowercased, white space
 * collapsed (and dropped after a tag and inside <script>/<style>), attribute
 * quotes made double, character references decoded (code points above 255
 * written back as "&#xhhhh;"). The output can be longer than the input
 * ("&Mu;" becomes "&#x39c;"); 2 * len + 16 is always enough. Same return
 * values and truncation as textnorm_ascii. */
ward_err textnorm_html(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
		       size_t *outlen) WARD_WUR;

#endif /* WARD_SCAN_TEXTNORM_H */
