/*
 * Container walker over libarchive: one level of members, each read into a
 * buffer that grows as data actually arrives (never from a size the archive
 * declares), under MaxFileSize, MaxScanSize, MaxFiles, the scan deadline and
 * an inflate-ratio ceiling. Nested containers are the caller's business.
 *
 * Structure mirrors ClamAV's: a compressed stream (gzip, bzip2, xz ...) is one
 * member, its decompressed bytes, whatever they hold; a .tar.gz is therefore
 * gz -> tar -> files, two levels, as in ClamAV (which gunzips, then types the
 * result as tar). The raw reader is used only when a compression filter was
 * recognised, so arbitrary bytes never become a "member".
 *
 * MaxFileSize, as ClamAV 1.4 applies it (checked with clamscan, see
 * docs/internals/containers.md): a zip member larger than the limit is
 * trimmed and its first max_filesize bytes are scanned, silently; a member of
 * any other format larger than the limit is skipped and noted.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <string.h>

#include "formats/formats.h"

struct walk {
	const struct archive_limits *lim;
	uint64_t max_filesize;
	uint64_t max_total;
	uint32_t max_layers;
	uint32_t max_files;
	uint64_t total;  /* bytes extracted, all members */
	uint32_t nfiles; /* regular-file members visited */
	size_t in_len;   /* archive size, for the ratio check */
	unsigned *notes;
	char *msg;
	size_t msglen;
	bool msg_set;
};

static void note_corrupt(struct walk *w, struct archive *a, const char *what)
{
	*w->notes |= AN_CORRUPT;
	if (w->msg && w->msglen && !w->msg_set) {
		const char *e = a ? archive_error_string(a) : NULL;
		snprintf(w->msg, w->msglen, "%s: %s", what, e ? e : "unknown error");
		w->msg_set = true;
	}
}

static bool deadline_passed(const struct walk *w)
{
	return w->lim->deadline_ms && now_ms() > w->lim->deadline_ms;
}

/* Output past WARD_INFLATE_RATIO_MIN_OUT larger than WARD_MAX_INFLATE_RATIO
 * times the whole archive: a bomb. The archive size is the honest measure for
 * an in-memory archive (libarchive consumes it as one block). */
static bool ratio_exceeded(const struct walk *w, uint64_t produced)
{
	uint64_t bound;
	if (produced <= WARD_INFLATE_RATIO_MIN_OUT)
		return false;
	if (ck_mul64((uint64_t)w->in_len, WARD_MAX_INFLATE_RATIO, &bound))
		return false;
	return produced > bound;
}

/* Formats enabled: those ftype_is_container() sends here. Not mtree: its
 * reader opens files named in the archive on the local file system. Not xar
 * or lha: Ward does not type them as containers (and libarchive 3.6's xar
 * reader returned wrong member data in our tests). Not raw or empty here:
 * see open_raw. */
static void enable_formats(struct archive *a)
{
	archive_read_support_format_zip(a);
	archive_read_support_format_7zip(a);
	archive_read_support_format_rar(a);
	archive_read_support_format_rar5(a);
	archive_read_support_format_cab(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_iso9660(a);
}

/* Filters built into libarchive. Not lz4/lzop/lrzip/grzip and not
 * archive_read_support_filter_all: some of those fall back to running an
 * external program on the input, which a scanner must never do. */
static void enable_filters(struct archive *a)
{
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_compress(a);
}

static int count_filters(struct archive *a)
{
	int n = archive_filter_count(a), layers = 0;
	for (int i = 0; i < n; i++)
		if (archive_filter_code(a, i) != ARCHIVE_FILTER_NONE)
			layers++;
	return layers;
}

/* A compressed stream: open with the raw format so it yields one member.
 * Returns NULL (and nothing to free) when no filter recognises buf; *oom
 * when libarchive could not allocate its handle.
 *
 * libarchive stacks every compression layer it recognises (gzip in gzip in
 * ...) inside one open, where ClamAV counts each layer as a recursion level.
 * So the layers are counted against max_layers here: more layers, or more than
 * libarchive itself will stack (a gzip quine decompresses to itself until
 * libarchive's filter cap), are reported as AN_MAX_RECURSION and nothing is
 * delivered; *deep is then set. */
static struct archive *open_raw(const uint8_t *buf, size_t len, struct walk *w, bool *oom,
				bool *deep)
{
	struct archive *a = archive_read_new();
	if (!a) {
		*oom = true;
		return NULL;
	}
	enable_filters(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK) {
		/* The only open failure that is about nesting; the message is
		 * libarchive's fixed text for its stacking cap. */
		const char *e = archive_error_string(a);
		if (e && strstr(e, "too many filters")) {
			*w->notes |= AN_MAX_RECURSION;
			*deep = true;
		}
		archive_read_free(a);
		return NULL;
	}
	int layers = count_filters(a);
	if (layers == 0) {
		archive_read_free(a);
		return NULL;
	}
	if ((uint32_t)layers > w->max_layers) {
		*w->notes |= AN_MAX_RECURSION;
		*deep = true;
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static struct archive *open_formats(const uint8_t *buf, size_t len, struct walk *w, bool *oom)
{
	struct archive *a = archive_read_new();
	if (!a) {
		*oom = true;
		return NULL;
	}
	enable_formats(a);
	if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK) {
		if (w->msg && w->msglen) {
			const char *e = archive_error_string(a);
			snprintf(w->msg, w->msglen, "not an archive: %s", e ? e : "unrecognised");
		}
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* Member name, capped: a hostile archive can carry megabyte-long names. */
static void member_name(struct archive_entry *e, char *out, size_t cap)
{
	const char *n = archive_entry_pathname_utf8(e);
	if (!n)
		n = archive_entry_pathname(e);
	if (!n)
		n = "";
	size_t l = strnlen(n, cap - 1);
	memcpy(out, n, l);
	out[l] = '\0';
}

/* Read the current member's data into m (reset first). Returns WARD_OK with
 * *deliver set when the data should go to the callback; *stop when the walk
 * must end after this member. */
static ward_err read_member(struct walk *w, struct archive *a, bool trim, vec *m, bool *deliver,
			    bool *stop)
{
	uint8_t chunk[WARD_ARCHIVE_READ_CHUNK];
	m->len = 0;
	*deliver = false;
	*stop = false;
	for (;;) {
		if (deadline_passed(w)) {
			*w->notes |= AN_MAX_SCANTIME;
			*stop = true;
			return WARD_OK;
		}
		la_ssize_t r = archive_read_data(a, chunk, sizeof chunk);
		if (r == 0)
			break;
		if (r < 0) {
			if (r == ARCHIVE_WARN)
				continue;
			/* Truncated or corrupt: what came out so far is still scanned,
			 * as ClamAV scans a partially extracted member. */
			note_corrupt(w, a, "member data");
			*deliver = m->len > 0;
			*stop = true;
			return WARD_OK;
		}
		size_t n = (size_t)r;
		if ((uint64_t)m->len + n > w->max_filesize) {
			if (trim) {
				/* zip: keep the first max_filesize bytes, no note. */
				size_t room = (size_t)(w->max_filesize - m->len);
				if (room) {
					ward_err err =
						vec_reserve(m, room, 1, (size_t)w->max_filesize);
					if (err)
						return err;
					memcpy((uint8_t *)m->items + m->len, chunk, room);
					m->len += room;
					w->total += room;
				}
				*deliver = true;
				return WARD_OK;
			}
			*w->notes |= AN_MAX_FILESIZE;
			return WARD_OK; /* skipped; the walk goes on */
		}
		uint64_t total;
		if (ck_add64(w->total, n, &total) || total > w->max_total) {
			*w->notes |= AN_MAX_SCANSIZE;
			*stop = true;
			return WARD_OK;
		}
		if (ratio_exceeded(w, total)) {
			*w->notes |= AN_RATIO;
			*stop = true;
			return WARD_OK;
		}
		ward_err err = vec_reserve(m, n, 1, (size_t)w->max_filesize);
		if (err)
			return err;
		memcpy((uint8_t *)m->items + m->len, chunk, n);
		m->len += n;
		w->total = total;
	}
	*deliver = true;
	return WARD_OK;
}

static ward_err walk_entries(struct walk *w, struct archive *a, archive_member_fn fn, void *ctx,
			     vec *m, char *name)
{
	bool is_zip = false;
	for (uint32_t entries = 0;; entries++) {
		if (deadline_passed(w)) {
			*w->notes |= AN_MAX_SCANTIME;
			return WARD_OK;
		}
		if (entries >= WARD_MAX_ARCHIVE_ENTRIES) {
			*w->notes |= AN_MAX_FILES;
			return WARD_OK;
		}
		struct archive_entry *e;
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			return WARD_OK;
		if (r < ARCHIVE_WARN || r == ARCHIVE_RETRY) {
			/* Members already delivered stay delivered; the walk ends. */
			note_corrupt(w, a, "archive header");
			return WARD_OK;
		}
		if (entries == 0)
			is_zip = archive_format(a) == ARCHIVE_FORMAT_ZIP ||
				 (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) ==
					 ARCHIVE_FORMAT_ZIP;
		if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e))
			continue;
		if (w->nfiles >= w->max_files) {
			*w->notes |= AN_MAX_FILES;
			return WARD_OK;
		}
		w->nfiles++;
		if (archive_entry_is_encrypted(e)) {
			*w->notes |= AN_ENCRYPTED;
			continue;
		}
		/* A declared size over the limit: skip without inflating (zip
		 * trims instead, below). The size is only compared, never used
		 * to allocate. */
		if (!is_zip && archive_entry_size_is_set(e) && archive_entry_size(e) > 0 &&
		    (uint64_t)archive_entry_size(e) > w->max_filesize) {
			*w->notes |= AN_MAX_FILESIZE;
			continue;
		}
		/* Nor inflate a member that cannot fit in what is left of
		 * MaxScanSize (clamscan compares the declared size first): a
		 * fan-out of small archives must not each inflate the remaining
		 * budget for nothing. A zip member counts as trimmed to
		 * MaxFileSize, since only that much of it is read. */
		uint64_t want = archive_entry_size_is_set(e) && archive_entry_size(e) > 0
					? (uint64_t)archive_entry_size(e)
					: 0;
		if (is_zip && want > w->max_filesize)
			want = w->max_filesize;
		if (want && (w->total >= w->max_total || want > w->max_total - w->total)) {
			*w->notes |= AN_MAX_SCANSIZE;
			continue;
		}
		member_name(e, name, WARD_MAX_MEMBER_NAME + 1);
		bool deliver, stop;
		ward_err err = read_member(w, a, is_zip, m, &deliver, &stop);
		if (err)
			return err;
		if (deliver) {
			/* Never a NULL pointer, also for an empty member. */
			static const uint8_t empty[1];
			const uint8_t *d = m->items ? (const uint8_t *)m->items : empty;
			err = fn(ctx, name, d, m->len);
			if (err)
				return err;
		}
		if (stop)
			return WARD_OK;
	}
}

ward_err archive_walk(const uint8_t *buf, size_t len, const struct archive_limits *lim,
		      archive_member_fn fn, void *ctx, unsigned *notes, char *msg, size_t msglen)
{
	unsigned dummy_notes = 0;
	char *name = NULL;
	vec m = {0};
	struct archive *a = NULL;
	ward_err err = WARD_OK;

	if (!notes)
		notes = &dummy_notes;
	*notes = 0;
	if (msg && msglen)
		msg[0] = '\0';
	if (!lim || !fn || (!buf && len))
		return WARD_EINVAL;
	if (!buf)
		buf = (const uint8_t *)"";

	struct walk w = {
		.lim = lim,
		/* Zero means "the default", not "unlimited": every buffer here
		 * keeps a ceiling. */
		.max_filesize = lim->max_filesize ? lim->max_filesize : WARD_DEFAULT_MAX_FILESIZE,
		.max_total = lim->max_total ? lim->max_total : WARD_DEFAULT_MAX_SCANSIZE,
		.max_files = lim->max_files ? lim->max_files : WARD_DEFAULT_MAX_FILES,
		.max_layers = lim->max_layers ? lim->max_layers : 1,
		.in_len = len,
		.notes = notes,
		.msg = msg,
		.msglen = msglen,
	};
	if (w.max_filesize > SIZE_MAX / 2)
		w.max_filesize = SIZE_MAX / 2;

	name = w_malloc(WARD_MAX_MEMBER_NAME + 1);
	if (!name) {
		err = WARD_ENOMEM;
		goto out;
	}
	bool oom = false, deep = false;
	a = open_raw(buf, len, &w, &oom, &deep);
	if (deep)
		goto out; /* too many layers: reported in notes, nothing to walk */
	if (!a && !oom)
		a = open_formats(buf, len, &w, &oom);
	if (!a) {
		err = oom ? WARD_ENOMEM : WARD_EUNSUPPORTED;
		goto out;
	}
	err = walk_entries(&w, a, fn, ctx, &m, name);
out:
	if (a)
		archive_read_free(a);
	vec_free(&m);
	w_free(name);
	return err;
}
