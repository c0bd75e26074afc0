/* SPDX-License-Identifier: MIT */
/*
 * replay.c - a plain main() for the fuzz targets (conventions §14): feed
 * every file named on the command line, or found directly in a directory
 * named there, to LLVMFuzzerTestOneInput() in an allocation of exactly
 * its size, so that a gcc or ASan build without libFuzzer replays the
 * corpus and an overread of one byte is caught.  libFuzzer-style options
 * ("-runs=N" ...) are ignored, so the same command line works for both.
 * Exit 0 when every input ran, 99 when an input could not be read.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned int nrun;

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf;
	size_t n;

	if (!f || fstat(fileno(f), &st) < 0) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	/* exact size: malloc(0) may return NULL, give it 1 but say 0 */
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	if (n != (size_t)st.st_size) {
		fprintf(stderr, "replay: short read on %s\n", path);
		free(buf);
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	nrun++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of @dir in name order, so that runs are reproducible. */
static int run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? 2 * cap : 64) *
							   sizeof(*names));

			if (!nn) {
				ret = -1;
				break;
			}
			names = nn;
		}
		names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
		if (!names[n]) {
			ret = -1;
			break;
		}
		sprintf(names[n], "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (ret == 0 && stat(names[i], &st) == 0 &&
		    S_ISREG(st.st_mode) && run_file(names[i]) < 0)
			ret = -1;
		free(names[i]);
	}
	free(names);
	return ret;
}

int main(int argc, char **argv)
{
	int ret = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (argv[i][0] == '-')
			continue; /* a libFuzzer option */
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: not found\n", argv[i]);
			ret = 99;
		} else if (S_ISDIR(st.st_mode) ? run_dir(argv[i]) < 0
					       : run_file(argv[i]) < 0) {
			ret = 99;
		}
	}
	printf("replay: %u inputs\n", nrun);
	return ret;
}
