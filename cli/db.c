/*
 * `ward db info` and `ward db check`: load databases through ward_db_load()
 * and print what the loader counted and complained about.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const struct {
	ward_count what;
	const char *label;
} count_labels[] = {
	{WARD_COUNT_HASH, "Hash signatures (.hdb .hsb)"},
	{WARD_COUNT_SECTHASH, "PE section hash signatures (.mdb .msb)"},
	{WARD_COUNT_IMPHASH, "PE import hash signatures (.imp)"},
	{WARD_COUNT_BODY, "Body signatures (.ndb)"},
	{WARD_COUNT_LOGICAL, "Logical signatures (.ldb)"},
	{WARD_COUNT_ALLOW, "Allow-list entries (.fp .sfp)"},
	{WARD_COUNT_IGNORE, "Ignored signature names (.ign .ign2)"},
	{WARD_COUNT_SKIPPED_FLEVEL, "Skipped for functionality level"},
	{WARD_COUNT_UNSUPPORTED, "Unsupported (loaded, never match)"},
	{WARD_COUNT_BAD_LINES, "Bad lines"},
	{WARD_COUNT_BAD_FILES, "Database files refused"},
	{WARD_COUNT_CACHED, "From the cache (1 Vectorscan, 2 all)"},
	{WARD_COUNT_ANCHORS, "Distinct anchors"},
	{WARD_COUNT_UNANCHORED, "Unanchored signatures"},
};
_Static_assert(sizeof count_labels / sizeof count_labels[0] == WARD_COUNT__MAX,
	       "every ward_count needs a label");

uint64_t cli_known_sigs(const ward_db *db)
{
	return ward_db_count(db, WARD_COUNT_HASH) + ward_db_count(db, WARD_COUNT_SECTHASH) +
	       ward_db_count(db, WARD_COUNT_IMPHASH) + ward_db_count(db, WARD_COUNT_BODY) +
	       ward_db_count(db, WARD_COUNT_LOGICAL);
}

static void print_counts(const ward_db *db)
{
	for (size_t i = 0; i < sizeof count_labels / sizeof count_labels[0]; i++)
		printf("%-40s %llu\n", count_labels[i].label,
		       (unsigned long long)ward_db_count(db, count_labels[i].what));
}

static void print_unsupported(const ward_db *db)
{
	const char *feature;
	uint64_t n;
	size_t i;
	printf("Unsupported features:\n");
	/* The feature list is finite (it lives in db); the bound only guards
	 * against a library bug looping us forever. */
	for (i = 0; i < 1000000 && ward_db_unsupported(db, i, &feature, &n); i++) {
		strbuf b = {0};
		sb_adds(&b, "  ");
		sb_add_text(&b, feature ? feature : "(unnamed)");
		sb_addf(&b, ": %llu\n", (unsigned long long)n);
		if (!b.failed)
			fputs(b.s, stdout);
		sb_free(&b);
	}
	if (i == 0)
		printf("  (none)\n");
}

static int db_info(int argc, char **argv)
{
	if (argc < 1 || (size_t)argc > CLI_MAX_DB_ARGS) {
		fprintf(stderr, "ward db info: give 1 to %u databases\n", CLI_MAX_DB_ARGS);
		return 2;
	}
	if (!cli_check_db_paths((const char *const *)argv, (size_t)argc))
		return 2;
	struct cli_diag_count count = {0};
	ward_load_opts opts = {
		.diag = cli_diag_stderr, .diag_ctx = &count, .cache_dir = cli_cache_dir()};
	ward_db *db = NULL;
	ward_err e = ward_db_load((const char *const *)argv, (size_t)argc, &opts, &db);
	if (e != WARD_OK) {
		fprintf(stderr, "ERROR: ward db info: %s\n", ward_strerror(e));
		return 2;
	}
	printf("Databases:");
	for (int i = 0; i < argc; i++) {
		strbuf b = {0};
		sb_add(&b, " ", 1);
		sb_add_text(&b, argv[i]);
		if (!b.failed)
			fputs(b.s, stdout);
		sb_free(&b);
	}
	printf("\nKnown viruses (matching signatures)       %llu\n",
	       (unsigned long long)cli_known_sigs(db));
	print_counts(db);
	print_unsupported(db);
	ward_db_free(db);
	/* The counts above are real, but of fewer files than asked for. */
	return count.io ? 2 : 0;
}

struct check_ctx {
	unsigned long corrupt; /* diagnostics that reject a line */
	unsigned long io;      /* a file could not be read */
};

/* "FILE:LINE: reason" on stdout, the shape compilers use, so editors can jump
 * to the line. Names are escaped: the database path may be hostile too. */
static void check_diag(void *vctx, ward_err code, const char *file, unsigned long line,
		       const char *msg)
{
	struct check_ctx *ctx = vctx;
	if (code == WARD_EIO)
		ctx->io++;
	if (code == WARD_ECORRUPT)
		ctx->corrupt++;
	strbuf b = {0};
	sb_add_text(&b, file ? file : "(database)");
	if (line)
		sb_addf(&b, ":%lu", line);
	sb_adds(&b, ": ");
	sb_add_text(&b, msg ? msg : ward_strerror(code));
	sb_add(&b, "\n", 1);
	if (!b.failed) {
		fflush(stdout);
		(void)cli_write_all(1, b.s, b.len);
	}
	sb_free(&b);
}

static int db_check(int argc, char **argv)
{
	if (argc < 1 || (size_t)argc > CLI_MAX_DB_ARGS) {
		fprintf(stderr, "ward db check: give 1 to %u database files\n", CLI_MAX_DB_ARGS);
		return 2;
	}
	bool bad = false, failed = false;
	uint64_t total_sigs = 0, total_bad = 0;
	/* One load per file, so each file's lines are attributed and one broken
	 * file does not hide the others. */
	for (int i = 0; i < argc; i++) {
		struct check_ctx ctx = {0};
		ward_load_opts opts = {.diag = check_diag, .diag_ctx = &ctx};
		ward_db *db = NULL;
		const char *one[1] = {argv[i]};
		strbuf b = {0};
		sb_add_text(&b, argv[i]);
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			sb_addf(&b, ": load failed: %s\n", strerror(errno));
			failed = true;
			goto next;
		}
		ward_err e = ward_db_load(one, 1, &opts, &db);
		if (e != WARD_OK) {
			sb_addf(&b, ": load failed: %s\n", ward_strerror(e));
			if (e == WARD_ECORRUPT || ctx.corrupt)
				bad = true;
			else
				failed = true;
			total_bad += ctx.corrupt;
		} else {
			uint64_t nbad = ward_db_count(db, WARD_COUNT_BAD_LINES);
			uint64_t nsigs = cli_known_sigs(db);
			sb_addf(&b,
				": %llu signatures, %llu bad lines, %llu unsupported, %llu skipped (flevel)\n",
				(unsigned long long)nsigs, (unsigned long long)nbad,
				(unsigned long long)ward_db_count(db, WARD_COUNT_UNSUPPORTED),
				(unsigned long long)ward_db_count(db, WARD_COUNT_SKIPPED_FLEVEL));
			if (nbad || ctx.corrupt)
				bad = true;
			if (ctx.io)
				failed = true;
			total_sigs += nsigs;
			total_bad += nbad;
		}
next:
		if (!b.failed) {
			fflush(stdout);
			(void)cli_write_all(1, b.s, b.len);
		}
		sb_free(&b);
		ward_db_free(db);
	}
	if (argc > 1)
		printf("Total: %llu signatures, %llu bad lines in %d files\n",
		       (unsigned long long)total_sigs, (unsigned long long)total_bad, argc);
	fflush(stdout);
	if (failed)
		return 2;
	return bad ? 1 : 0;
}

int cmd_db(int argc, char **argv)
{
	if (argc < 1) {
		fprintf(stderr, "Usage: ward db info DB... | ward db check FILE...\n");
		return 2;
	}
	if (!strcmp(argv[0], "info"))
		return db_info(argc - 1, argv + 1);
	if (!strcmp(argv[0], "check"))
		return db_check(argc - 1, argv + 1);
	fprintf(stderr, "ward db: unknown subcommand '%s' (info, check)\n", argv[0]);
	return 2;
}
