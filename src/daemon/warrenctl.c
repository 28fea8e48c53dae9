/* warrenctl.c — the operator's command-line view of warren.
 *
 *   warrenctl lifecycle [sandbox|task|exec]   legal transitions from each state,
 *                                             read from the compiled spec charts
 *   warrenctl --version
 *
 * (ps and inspect, which talk to a running warrend, come with the daemon's
 * control socket.) */
#include <stdio.h>
#include <string.h>

#include "core/lifecycle.h"
#include "core/object.h"

static void print_lifecycle(const struct wr_lifecycle *lc)
{
	printf("%s lifecycle (spec/%s.rl)\n", lc->name, lc->name);
	for (int s = 0; s < lc->n_states; s++) {
		const char *tag = lc->transient[s] ? " (transient: waits for the action's outcome)"
				  : lc->terminal[s] ? " (terminal)" : "";
		printf("  %s%s\n", lc->state_names[s], tag);
		for (int i = 0; i < lc->n_model; i++) {
			const struct wr_transition *t = &lc->model[i];
			if (t->from != s)
				continue;
			int act, to;
			if (wr_lc_step(lc, s, t->event, &act, &to) < 0)
				continue; /* cannot happen: test_model checks agreement */
			printf("    %-9s -> %-9s%s%s\n", lc->event_names[t->event], lc->state_names[to],
			       act >= 0 ? " runs " : "", act >= 0 ? lc->action_names[act] : "");
		}
	}
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("warrenctl %s\n", WARREN_VERSION);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "lifecycle") == 0) {
		int shown = 0;
		for (int k = 0; k < WR_KIND_COUNT; k++) {
			const struct wr_lifecycle *lc = wr_lifecycle_of(k);
			if (argc == 3 && strcmp(argv[2], lc->name) != 0)
				continue;
			if (shown++)
				printf("\n");
			print_lifecycle(lc);
		}
		if (!shown) {
			fprintf(stderr, "warrenctl: unknown lifecycle '%s' (sandbox, task, exec)\n", argv[2]);
			return 2;
		}
		return 0;
	}
	fprintf(stderr, "usage: warrenctl lifecycle [sandbox|task|exec] | --version\n");
	return 2;
}
