/* SPDX-License-Identifier: MIT */
/* pb_cmd.h - `rxsvc pb`: protobuf-c services over Rx. */
#ifndef RXS_CMD_PB_CMD_H
#define RXS_CMD_PB_CMD_H

/* `rxsvc pb describe ADDR:PORT --service N`; argv[0] is "pb".  Returns
 * the exit status. */
int rxsvc_cmd_pb(int argc, char **argv);

#endif
