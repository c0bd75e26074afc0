/* SPDX-License-Identifier: MIT */
#include "config.h"
#include "rxsvc/rxsvc.h"

RXSVC_API const char *rxsvc_version(void)
{
	return PACKAGE_VERSION;
}
