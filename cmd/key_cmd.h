/* SPDX-License-Identifier: MIT */
/* key_cmd.h - `rxsvc key` and `rxsvc keyfile`. */
#ifndef RXS_CMD_KEY_H
#define RXS_CMD_KEY_H

int rxsvc_cmd_key(int argc, char **argv);
int rxsvc_cmd_keyfile(int argc, char **argv);

#endif
