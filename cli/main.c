/*
 * ward: command-line front end. Dispatches to the commands; every command
 * parses its own options and calls libward through include/ward/ward.h only.
 */
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cli.h"

static const char usage_text[] =
	"Usage:\n"
	"  ward scan [options] PATH...     scan files and directories (clamscan-compatible output)\n"
	"  ward db info DB...              signature counts and unsupported features\n"
	"  ward db check FILE...           report every bad database line as FILE:LINE: reason\n"
	"  ward pattern ...                build, sign, verify and gate pattern packages ('ward pattern help')\n"
	"  ward repo ...                   write a signed update repository ('ward repo help')\n"
	"  ward update ...                 fetch, verify and activate patterns ('ward update help')\n"
	"  ward --version | ward help\n"
	"\n"
	"scan options:\n"
	"  -d, --database FILE/DIR   load signatures (repeatable; default /var/lib/clamav)\n"
	"  -r, --recursive           scan subdirectories\n"
	"  -z, --allmatch            report every matching signature\n"
	"  -i, --infected            print only infected files\n"
	"      --no-summary          no summary at the end\n"
	"      --quiet               print only error messages\n"
	"      --json                one JSON object per file per line\n"
	"      --threads N           worker processes (default: online CPUs)\n"
	"      --max-scantime MS     --max-filesize SIZE   --max-scansize SIZE\n"
	"      --max-recursion N     --max-files N         --max-dir-recursion N\n"
	"                            (SIZE takes K or M suffixes, as clamscan)\n"
	"      --alert-exceeds-max   report hit limits as Heuristics.Limits.Exceeded.* FOUND\n"
	"      --no-sandbox          workers scan without the seccomp filter (still separate processes)\n"
	"  PATH '-' scans standard input.\n"
	"\n"
	"Exit codes: 0 clean, 1 something found, 2 error (found wins, as clamscan).\n";

static void print_usage(FILE *f) { fputs(usage_text, f); }

int main(int argc, char **argv)
{
#ifdef __GLIBC__
	/* Blocks of 256 KiB and up (archive members, normalised text) come
	 * straight from mmap: grown with mremap rather than copied, and given
	 * back when freed. glibc otherwise raises this threshold each time such
	 * a block is freed, and a 24 MB archive member then grew by copying
	 * inside the heap: 20 MB more peak RSS on one benchmark archive. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
	if (argc < 2) {
		print_usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "version")) {
		printf("Ward %s (ClamAV functionality level %d)\n", WARD_VERSION, WARD_FLEVEL);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		print_usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "scan"))
		return cmd_scan(argc - 2, argv + 2);
	if (!strcmp(cmd, "db"))
		return cmd_db(argc - 2, argv + 2);
	if (!strcmp(cmd, "repo"))
		return cmd_repo(argc - 2, argv + 2);
	if (!strcmp(cmd, "update"))
		return cmd_update(argc - 2, argv + 2);
	if (!strcmp(cmd, "pattern"))
		return cmd_pattern(argc - 2, argv + 2);
	fprintf(stderr, "ward: unknown command '%s'\n", cmd);
	print_usage(stderr);
	return 2;
}
