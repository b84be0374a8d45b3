/*
 * unit_disk.c - the pure parts under disks/NAME.vhd: the Get Page Ranges
 * parser (src/blob.c: pages, markers, strictness), which SAS URLs may be
 * used, and the block cache (src/disk_cache.c: single flight, the bound,
 * least recently used out, failed blocks forgotten, partial fills).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arm.h"
#include "blob.h"
#include "disk_cache.h"
#include "unit.h"

/* Parse one page; its return code, ranges appended to *v. */
static int parse(const char *xml, struct blob_range **v, size_t *n, size_t *cap, char **marker)
{
	return blob_parse_pagelist(xml, strlen(xml), v, n, cap, marker);
}

static void test_pagelist(void)
{
	struct blob_range *v = NULL;
	size_t n = 0, cap = 0;
	char *m = NULL;

	/* Two pages: ranges in order, adjacent ones merged, the marker kept. */
	CHECK(parse("<?xml version=\"1.0\" encoding=\"utf-8\"?><PageList>"
		    "<PageRange><Start>0</Start><End>511</End></PageRange>"
		    "<PageRange><Start>512</Start><End>4095</End></PageRange>"
		    "<PageRange><Start>1048576</Start><End>2097151</End></PageRange>"
		    "<NextMarker>2!1048576</NextMarker></PageList>",
		    &v, &n, &cap, &m) == 0);
	CHECK(n == 2 && v[0].start == 0 && v[0].end == 4095 && v[1].start == 1048576 &&
	      v[1].end == 2097151);
	CHECK(m && !strcmp(m, "2!1048576"));
	free(m);
	CHECK(parse("<PageList><PageRange><Start>2097152</Start><End>2098175</End></PageRange>"
		    "<PageRange>\n <Start>4194304</Start>\n <End>4194815</End>\n</PageRange>"
		    "<NextMarker /></PageList>",
		    &v, &n, &cap, &m) == 0);
	CHECK(n == 3 && v[1].end == 2098175 && v[2].start == 4194304 && v[2].end == 4194815);
	CHECK(m == NULL);
	/* An empty list. */
	free(v);
	v = NULL;
	n = cap = 0;
	CHECK(parse("<?xml version=\"1.0\"?><PageList />", &v, &n, &cap, &m) == 0 && n == 0 && !m);
	CHECK(parse("<PageList></PageList>", &v, &n, &cap, &m) == 0 && n == 0 && !m);

	/* Refused: not a page list, unaligned, backwards, out of order, overlapping,
	 * not a number, a number too large, an unterminated range. */
	static const char *const bad[] = {
	    "<Error><Code>AuthenticationFailed</Code></Error>",
	    "<PageList><PageRange><Start>1</Start><End>511</End></PageRange></PageList>",
	    "<PageList><PageRange><Start>0</Start><End>510</End></PageRange></PageList>",
	    "<PageList><PageRange><Start>1024</Start><End>511</End></PageRange></PageList>",
	    "<PageList><PageRange><Start>1024</Start><End>2047</End></PageRange>"
	    "<PageRange><Start>0</Start><End>511</End></PageRange></PageList>",
	    "<PageList><PageRange><Start>0</Start><End>1023</End></PageRange>"
	    "<PageRange><Start>512</Start><End>2047</End></PageRange></PageList>",
	    "<PageList><PageRange><Start>0x0</Start><End>511</End></PageRange></PageList>",
	    "<PageList><PageRange><Start>-512</Start><End>511</End></PageRange></PageList>",
	    "<PageList><PageRange><Start>0</Start><End>99999999999999999999999</End></PageRange></"
	    "PageList>",
	    "<PageList><PageRange><Start>0</Start><End>511</End>",
	    "<PageList><PageRange><Start>0</Start></PageRange></PageList>",
	    "<PageList><NextMarker>abc</PageList>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = cap = 0;
		v = NULL;
		m = NULL;
		CHECK_MSG(parse(bad[i], &v, &n, &cap, &m) == -EIO, "accepted: %s", bad[i]);
		free(v);
		free(m);
	}
}

static void test_urls(void)
{
	CHECK(blob_url_ok("https://md-x.blob.storage.azure.net/c/abcd?sv=1&sig=x") == 0);
	CHECK(blob_url_ok("http://127.0.0.1:8080/c/abcd?sig=x") == 0);
	CHECK(blob_url_ok("http://localhost/c/abcd?sig=x") == 0);
	CHECK(blob_url_ok("http://[::1]:99/c/d?sig=x") == 0);
	CHECK(blob_url_ok("http://md-x.blob.storage.azure.net/c/abcd?sig=x") == -EINVAL);
	CHECK(blob_url_ok("http://127.0.0.1.evil.example/c?sig=x") == -EINVAL);
	CHECK(blob_url_ok("http://evil.example@127.0.0.1.nip.io/c") == -EINVAL);
	CHECK(blob_url_ok("ftp://127.0.0.1/c") == -EINVAL);
	CHECK(blob_url_ok(NULL) == -EINVAL);
}

static void test_grant_errno(void)
{
	CHECK(arm_errno_of(ARM_ERRNO_GRANT, 409, "OperationNotAllowed", "The disk restore point is still being replicated (40 %).", HTTP_T_NONE) ==
	      -EBUSY);
	CHECK(arm_errno_of(ARM_ERRNO_GRANT, 409, "OperationNotAllowed", "The disk has networkAccessPolicy DenyAll and cannot be exported.", HTTP_T_NONE) ==
	      -EACCES);
	CHECK(arm_errno_of(ARM_ERRNO_GRANT, 409, "Conflict", "Another operation is in progress.", HTTP_T_NONE) == -EBUSY);
	CHECK(arm_errno_of(ARM_ERRNO_GRANT, 403, "AuthorizationFailed", "no", HTTP_T_NONE) == -EACCES);
	CHECK(arm_errno_of(ARM_ERRNO_GRANT, 404, "ResourceNotFound", "gone", HTTP_T_NONE) == -ENOENT);
}

static void test_cache(void)
{
	struct dcache *dc = NULL;
	struct dblock *a, *b, *c, *x;
	struct dcache_stats st;
	int owner1, owner2;

	CHECK(dcache_new(3 << 20, &dc) == 0);
	if (!dc)
		return;
	/* Single flight: the second get finds the pending block. */
	CHECK(dcache_get(dc, &owner1, 0, 1 << 20, DC_DEMAND, &a) == 1);
	CHECK(a->data[0] == 0 && a->data[(1 << 20) - 1] == 0);
	CHECK(dcache_get(dc, &owner1, 0, 1 << 20, DC_DEMAND, &x) == 0 && x == a);
	memset(a->data, 'a', 16);
	dcache_done(dc, a, 0);
	CHECK(dcache_wait(dc, x, 0) == 0 && x->data[15] == 'a');
	dcache_put(dc, x);
	dcache_put(dc, a);
	/* Another owner's block of the same index is another block. */
	CHECK(dcache_get(dc, &owner2, 0, 1 << 20, DC_DEMAND, &b) == 1 && b != a);
	dcache_done(dc, b, 0);
	dcache_put(dc, b);
	CHECK(dcache_get(dc, &owner1, 1, 1 << 20, DC_DEMAND, &c) == 1);
	dcache_done(dc, c, 0);
	dcache_put(dc, c);
	/* Full: read-ahead gets no room while blocks are referenced, then
	 * the least recently used one goes. */
	CHECK(dcache_get(dc, &owner2, 0, 1 << 20, DC_LOOKUP, &b) == 0); /* b: the oldest use */
	CHECK(dcache_get(dc, &owner1, 1, 1 << 20, DC_LOOKUP, &c) == 0);
	CHECK(dcache_get(dc, &owner1, 0, 1 << 20, DC_LOOKUP, &a) == 0);
	CHECK(dcache_get(dc, &owner1, 7, 1 << 20, DC_OPTIONAL, &x) == -ENOSPC);
	dcache_put(dc, b);
	dcache_put(dc, c);
	dcache_put(dc, a);
	CHECK(dcache_get(dc, &owner1, 7, 1 << 20, DC_OPTIONAL, &x) == 1);
	CHECK(dcache_get(dc, &owner2, 0, 1 << 20, DC_LOOKUP, &b) == -ENOENT); /* evicted */
	CHECK(dcache_get(dc, &owner1, 0, 1 << 20, DC_LOOKUP, &a) == 0);
	dcache_put(dc, a);
	/* A failed fetch: its waiter gets the errno, the next get starts over. */
	dcache_done(dc, x, -EIO);
	CHECK(dcache_wait(dc, x, 0) == -EIO);
	dcache_put(dc, x);
	CHECK(dcache_get(dc, &owner1, 7, 1 << 20, DC_DEMAND, &x) == 1);
	/* A pending block times out its waiter (the deadline is in the past),
	 * unless the bytes it waits for are good already. */
	CHECK(dcache_wait(dc, x, 1) == -ETIMEDOUT);
	dcache_partial(dc, x, 4096, 8192);
	CHECK(dcache_wait_range(dc, x, 4096, 8192, 1) == 0);
	CHECK(dcache_wait_range(dc, x, 5000, 6000, 1) == 0);
	CHECK(dcache_wait_range(dc, x, 0, 4097, 1) == -ETIMEDOUT);
	CHECK(dcache_wait(dc, x, 1) == -ETIMEDOUT);
	dcache_done(dc, x, 0);
	dcache_put(dc, x);
	/* Dropping an owner frees its blocks, and the bound is kept. */
	dcache_drop(dc, &owner1);
	dcache_drop(dc, &owner2);
	dcache_stats_get(dc, &st);
	CHECK(st.used == 0);
	CHECK(st.evictions >= 1 && st.hits >= 2);
	dcache_free(dc);
}

int main(void)
{
	test_pagelist();
	test_urls();
	test_grant_errno();
	test_cache();
	return unit_result("unit_disk");
}
