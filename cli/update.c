/*
 * `ward repo ...` (publish a pattern repository) and `ward update ...` (the
 * client): option parsing over include/ward/update.h. Design:
 * docs/internals/update.md.
 *
 * Exit codes: 0 done (updated or already up to date), 1 refused (an attack
 * or a verification failure: the message names it), 2 usage or other errors.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ward/update.h"

#define MAX_KEYS 64u
#define MAX_MIRRORS 16u

static const char repo_usage[] =
	"Usage:\n"
	"  ward repo keygen PRIVATE.pem [PUBLIC.pem]\n"
	"  ward repo init DIR KEYS [--now TIME] [--expires ROLE=SECONDS]...\n"
	"  ward repo rotate DIR KEYS [--now TIME] [--expires ROLE=SECONDS]...\n"
	"      KEYS: --root-key F... --targets-key F... --snapshot-key F... --timestamp-key F...\n"
	"            [--root-threshold N] [--targets-threshold N] [--snapshot-threshold N]\n"
	"            [--timestamp-threshold N]   (key files: public or private PEM)\n"
	"  ward repo add DIR FILE --name NAME --version N [--channel stable|preview]\n"
	"                [--released TIME] [--now TIME] [--expires targets=SECONDS]\n"
	"                [--delta DELTA [--delta-name NAME] [--pkg-key PUBLIC]]\n"
	"  ward repo add-delta DIR DELTA --full NAME [--delta-name NAME] [--pkg-key PUBLIC]\n"
	"      a delta package (ward pattern delta) from the previous version to the\n"
	"      full target NAME; clients on the base version fetch it instead\n"
	"  ward repo sign DIR root|targets --key PRIVATE.pem\n"
	"  ward repo publish DIR --snapshot-key F... --timestamp-key F... [--now TIME]\n"
	"                [--expires ROLE=SECONDS]...\n"
	"  Serve DIR/public with any web server. TIME: 2030-01-01T00:00:00Z.\n"
	"  --unsafe (sign, publish): allow unlisted targets keys and targets below\n"
	"  threshold, to build attacks for client tests. Never use it for a release.\n";

static const char update_usage[] =
	"Usage:\n"
	"  ward update init --state DIR --root ROOT.json\n"
	"  ward update --state DIR --pattern-dir DIR --mirror URL [--mirror URL]...\n"
	"              [--channel preview|stable|stable+48h | --pin VERSION]\n"
	"              [--pkg-key PUBLIC] [--timeout SECONDS]\n"
	"              [--load-mem BYTES] [--load-cpu SECONDS] [--quiet]\n"
	"  ward update --rollback --state DIR --pattern-dir DIR\n"
	"  ward update status --pattern-dir DIR\n"
	"  Scanners load DIR/current (ward scan -d PATTERN-DIR/current).\n";

static const char *const role_names[4] = {"root", "targets", "snapshot", "timestamp"};

struct args {
	const char *keys[4][MAX_KEYS];
	size_t nkeys[4];
	uint64_t threshold[4];
	ward_repo_opts ro;
	const char *name, *channel, *key, *delta, *delta_name, *full;
	uint64_t version;
	int64_t released;
	const char *pos[4];
	size_t npos;
	/* client */
	const char *state, *pattern, *root, *pkg_key;
	const char *mirrors[MAX_MIRRORS];
	size_t nmirrors;
	uint64_t pin, timeout, load_mem, load_cpu;
	int64_t now;
	bool rollback, quiet;
};

static bool bad(const char *cmd, const char *what, const char *val)
{
	fprintf(stderr, "ward %s: %s '%s'\n", cmd, what, val ? val : "");
	return false;
}

static bool parse_args(const char *cmd, int argc, char **argv, struct args *a)
{
	memset(a, 0, sizeof *a);
	for (int i = 0; i < argc; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = true;
		int role = -1;
		if (!strcmp(o, "--unsafe")) {
			a->ro.unsafe = true;
			takes = false;
		} else if (!strcmp(o, "--rollback")) {
			a->rollback = true;
			takes = false;
		} else if (!strcmp(o, "--quiet")) {
			a->quiet = true;
			takes = false;
		} else if (o[0] != '-' || o[1] == '\0') {
			if (a->npos >= sizeof a->pos / sizeof a->pos[0])
				return bad(cmd, "too many arguments at", o);
			a->pos[a->npos++] = o;
			continue;
		}
		if (!takes)
			continue;
		if (!v)
			return bad(cmd, "missing value for", o);
		i++;
		for (int r = 0; r < 4; r++) {
			char k[32], t[32];
			snprintf(k, sizeof k, "--%s-key", role_names[r]);
			snprintf(t, sizeof t, "--%s-threshold", role_names[r]);
			if (!strcmp(o, k)) {
				if (a->nkeys[r] >= MAX_KEYS)
					return bad(cmd, "too many keys for", o);
				a->keys[r][a->nkeys[r]++] = v;
				role = r;
			} else if (!strcmp(o, t)) {
				if (!cli_parse_number(v, MAX_KEYS, &a->threshold[r]) ||
				    !a->threshold[r])
					return bad(cmd, "bad threshold", v);
				role = r;
			}
		}
		if (role >= 0)
			continue;
		if (!strcmp(o, "--now")) {
			if (!ward_update_parse_time(v, &a->now))
				return bad(cmd, "bad time (want 2030-01-01T00:00:00Z)", v);
			a->ro.now = a->now;
		} else if (!strcmp(o, "--released")) {
			if (!ward_update_parse_time(v, &a->released))
				return bad(cmd, "bad time (want 2030-01-01T00:00:00Z)", v);
		} else if (!strcmp(o, "--expires")) {
			const char *eq = strchr(v, '=');
			uint64_t secs;
			int r;
			if (!eq)
				return bad(cmd, "bad --expires (want ROLE=SECONDS)", v);
			for (r = 0; r < 4; r++)
				if ((size_t)(eq - v) == strlen(role_names[r]) &&
				    !strncmp(v, role_names[r], (size_t)(eq - v)))
					break;
			if (r == 4 || !cli_parse_number(eq + 1, UINT32_MAX, &secs) || !secs)
				return bad(cmd, "bad --expires (want ROLE=SECONDS)", v);
			a->ro.expires[r] = secs;
		} else if (!strcmp(o, "--name")) {
			a->name = v;
		} else if (!strcmp(o, "--version")) {
			if (!cli_parse_number(v, INT64_MAX, &a->version) || !a->version)
				return bad(cmd, "bad version", v);
		} else if (!strcmp(o, "--delta")) {
			a->delta = v;
		} else if (!strcmp(o, "--delta-name")) {
			a->delta_name = v;
		} else if (!strcmp(o, "--full")) {
			a->full = v;
		} else if (!strcmp(o, "--channel")) {
			a->channel = v;
		} else if (!strcmp(o, "--key")) {
			a->key = v;
		} else if (!strcmp(o, "--state")) {
			a->state = v;
		} else if (!strcmp(o, "--pattern-dir")) {
			a->pattern = v;
		} else if (!strcmp(o, "--root")) {
			a->root = v;
		} else if (!strcmp(o, "--pkg-key")) {
			a->pkg_key = v;
		} else if (!strcmp(o, "--mirror")) {
			if (a->nmirrors >= MAX_MIRRORS)
				return bad(cmd, "too many mirrors at", v);
			a->mirrors[a->nmirrors++] = v;
		} else if (!strcmp(o, "--pin")) {
			if (!cli_parse_number(v, INT64_MAX, &a->pin) || !a->pin)
				return bad(cmd, "bad version", v);
		} else if (!strcmp(o, "--timeout")) {
			if (!cli_parse_number(v, 86400, &a->timeout) || !a->timeout)
				return bad(cmd, "bad timeout", v);
		} else if (!strcmp(o, "--load-mem")) {
			if (!cli_parse_size(v, &a->load_mem) || a->load_mem < (1u << 20))
				return bad(cmd, "bad --load-mem (at least 1M)", v);
		} else if (!strcmp(o, "--load-cpu")) {
			if (!cli_parse_number(v, 86400, &a->load_cpu) || !a->load_cpu)
				return bad(cmd, "bad --load-cpu", v);
		} else {
			return bad(cmd, "unknown option", o);
		}
	}
	return true;
}

static int report(const char *cmd, ward_err e, const char *why)
{
	if (e == WARD_OK) {
		if (why && why[0])
			printf("%s\n", why);
		return 0;
	}
	fprintf(stderr, "ward %s: %s\n", cmd, why && why[0] ? why : ward_strerror(e));
	return e == WARD_EBADSIG ? 1 : 2;
}

static int repo_keys(const char *sub, struct args *a, ward_repo_role_keys keys[4])
{
	for (int r = 0; r < 4; r++) {
		if (!a->nkeys[r]) {
			fprintf(stderr, "ward repo %s: --%s-key is required\n", sub, role_names[r]);
			return 2;
		}
		keys[r] = (ward_repo_role_keys){a->keys[r], a->nkeys[r], a->threshold[r]};
	}
	return 0;
}

int cmd_repo(int argc, char **argv)
{
	struct args a;
	char why[1024] = "";
	ward_err e;
	if (argc < 1 || !strcmp(argv[0], "help") || !strcmp(argv[0], "--help")) {
		fputs(repo_usage, argc < 1 ? stderr : stdout);
		return argc < 1 ? 2 : 0;
	}
	const char *sub = argv[0];
	if (!parse_args("repo", argc - 1, argv + 1, &a))
		return 2;
	if (!strcmp(sub, "keygen")) {
		char id[65];
		if (a.npos < 1 || a.npos > 2) {
			fputs(repo_usage, stderr);
			return 2;
		}
		e = ward_update_keygen(a.pos[0], a.npos > 1 ? a.pos[1] : NULL, id, why, sizeof why);
		if (e == WARD_OK)
			snprintf(why, sizeof why, "key id %s", id);
		return report("repo keygen", e, why);
	}
	if (a.npos < 1) {
		fputs(repo_usage, stderr);
		return 2;
	}
	const char *dir = a.pos[0];
	if (!strcmp(sub, "init") || !strcmp(sub, "rotate")) {
		ward_repo_role_keys keys[4];
		int rc = repo_keys(sub, &a, keys);
		if (rc)
			return rc;
		e = !strcmp(sub, "init") ? ward_repo_init(dir, keys, &a.ro, why, sizeof why)
					 : ward_repo_rotate(dir, keys, &a.ro, why, sizeof why);
		if (e == WARD_OK)
			snprintf(
				why, sizeof why,
				"staged %s/staged/root.json: sign it with `ward repo sign %s root --key ...`",
				dir, dir);
		return report(!strcmp(sub, "init") ? "repo init" : "repo rotate", e, why);
	}
	if (!strcmp(sub, "add")) {
		if (a.npos != 2 || !a.name || !a.version) {
			fprintf(stderr,
				"ward repo add: DIR FILE --name NAME --version N are required\n");
			return 2;
		}
		ward_repo_target t = {a.pos[1], a.name, a.version, a.channel, a.released};
		e = ward_repo_add(dir, &t, &a.ro, why, sizeof why);
		if (e == WARD_OK && a.delta) {
			ward_repo_delta d = {a.delta, a.name, a.delta_name, a.pkg_key};
			e = ward_repo_add_delta(dir, &d, &a.ro, why, sizeof why);
			if (e == WARD_OK)
				printf("%s\n", why);
		}
		if (e == WARD_OK)
			snprintf(why, sizeof why,
				 "staged %s version %llu (%s): sign targets, then publish", a.name,
				 (unsigned long long)a.version, a.channel ? a.channel : "stable");
		return report("repo add", e, why);
	}
	if (!strcmp(sub, "add-delta")) {
		if (a.npos != 2 || !a.full) {
			fprintf(stderr,
				"ward repo add-delta: DIR DELTA --full NAME are required\n");
			return 2;
		}
		ward_repo_delta d = {a.pos[1], a.full, a.delta_name, a.pkg_key};
		e = ward_repo_add_delta(dir, &d, &a.ro, why, sizeof why);
		if (e == WARD_OK && strlen(why) + 40 < sizeof why)
			snprintf(why + strlen(why), sizeof why - strlen(why),
				 ": sign targets, then publish");
		return report("repo add-delta", e, why);
	}
	if (!strcmp(sub, "sign")) {
		if (a.npos != 2 || !a.key) {
			fprintf(stderr,
				"ward repo sign: DIR ROLE --key PRIVATE.pem are required\n");
			return 2;
		}
		e = ward_repo_sign(dir, a.pos[1], a.key, &a.ro, why, sizeof why);
		if (e == WARD_OK)
			snprintf(why, sizeof why, "signed staged %s", a.pos[1]);
		return report("repo sign", e, why);
	}
	if (!strcmp(sub, "publish")) {
		if (a.npos != 1 || !a.nkeys[2] || !a.nkeys[3]) {
			fprintf(stderr,
				"ward repo publish: DIR --snapshot-key F --timestamp-key F are required\n");
			return 2;
		}
		e = ward_repo_publish(dir, a.keys[2], a.nkeys[2], a.keys[3], a.nkeys[3], &a.ro, why,
				      sizeof why);
		return report("repo publish", e, why);
	}
	fprintf(stderr, "ward repo: unknown subcommand '%s'\n", sub);
	fputs(repo_usage, stderr);
	return 2;
}

static void update_diag(void *ctx, ward_err code, const char *file, unsigned long line,
			const char *msg)
{
	const struct args *a = ctx;
	if (a->quiet && code == WARD_OK)
		return;
	strbuf b = {0};
	sb_adds(&b, "ward update: ");
	sb_add_text(&b, msg); /* messages quote URLs and names from the network */
	sb_adds(&b, "\n");
	if (!b.failed)
		fputs(b.s, stderr);
	sb_free(&b);
}

int cmd_update(int argc, char **argv)
{
	struct args a;
	char why[1024] = "";
	if (argc >= 1 && (!strcmp(argv[0], "help") || !strcmp(argv[0], "--help"))) {
		fputs(update_usage, stdout);
		return 0;
	}
	const char *sub = argc >= 1 && argv[0][0] != '-' ? argv[0] : "run";
	int skip = argc >= 1 && argv[0][0] != '-';
	if (!parse_args("update", argc - skip, argv + skip, &a))
		return 2;
	if (a.npos) {
		fprintf(stderr, "ward update: unexpected argument '%s'\n", a.pos[0]);
		return 2;
	}
	if (!strcmp(sub, "init")) {
		if (!a.state || !a.root) {
			fprintf(stderr,
				"ward update init: --state DIR and --root FILE are required\n");
			return 2;
		}
		return report("update init", ward_update_init(a.state, a.root, why, sizeof why),
			      why);
	}
	if (!strcmp(sub, "status")) {
		uint64_t cur, prev;
		if (!a.pattern) {
			fprintf(stderr, "ward update status: --pattern-dir DIR is required\n");
			return 2;
		}
		if (ward_update_active(a.pattern, &cur, &prev) != WARD_OK)
			return 2;
		printf("current: %llu\nprevious: %llu\n", (unsigned long long)cur,
		       (unsigned long long)prev);
		return cur ? 0 : 1;
	}
	if (strcmp(sub, "run")) {
		fprintf(stderr, "ward update: unknown subcommand '%s'\n", sub);
		fputs(update_usage, stderr);
		return 2;
	}
	if (!a.state || !a.pattern || (!a.rollback && !a.nmirrors)) {
		fputs(update_usage, stderr);
		return 2;
	}
	if (a.pin && a.channel) {
		fprintf(stderr, "ward update: --pin and --channel exclude each other\n");
		return 2;
	}
	ward_update_opts o = {
		.state_dir = a.state,
		.pattern_dir = a.pattern,
		.mirrors = a.mirrors,
		.nmirrors = a.nmirrors,
		.channel = a.channel,
		.pin = a.pin,
		.now = a.now,
		.load_mem = a.load_mem,
		.load_cpu_s = a.load_cpu,
		.timeout_s = a.timeout,
		.pkg_key = a.pkg_key,
		.diag = update_diag,
		.diag_ctx = &a,
	};
	ward_update_result res;
	ward_err e = a.rollback ? ward_update_rollback(&o, &res) : ward_update_run(&o, &res);
	if (e == WARD_OK) {
		printf("%s\n", res.message);
		return 0;
	}
	strbuf b = {0};
	sb_adds(&b, "ward update: ");
	sb_add_text(&b, res.message[0] ? res.message : ward_strerror(e));
	sb_adds(&b, "\n");
	fputs(b.failed ? "ward update: failed\n" : b.s, stderr);
	sb_free(&b);
	return e == WARD_EBADSIG ? 1 : 2;
}
