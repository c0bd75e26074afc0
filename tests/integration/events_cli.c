/* SPDX-License-Identifier: MIT */
/*
 * A stand-alone `rxsvc events` for the events tests: runs
 * rxsvc_cmd_events() as `events_cli events ARGS...`, so the tests do not
 * depend on cmd/rxsvc's dispatcher.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/rxsvc_events.h"

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "events")) {
		fprintf(stderr, "usage: events_cli events ...\n");
		return 2;
	}
	return rxsvc_cmd_events(argc - 1, argv + 1);
}
