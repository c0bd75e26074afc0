/* SPDX-License-Identifier: MIT */
/* `rxsvc events`: watch and send on the event bus (cmd/rxsvc_events.c). */
#ifndef RXSVC_CMD_EVENTS_H
#define RXSVC_CMD_EVENTS_H

/*
 * Run `rxsvc events ...`; argv[0] is "events".  Returns the exit status:
 * 0 success, 1 failure (refused, nobody listens, bus gone), 2 usage.
 */
int rxsvc_cmd_events(int argc, char **argv);

#endif /* RXSVC_CMD_EVENTS_H */
