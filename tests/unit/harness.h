/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small test harness in the style of the kernel's BPF selftests: tests
 * register themselves, ASSERT_* print what differed and where, and a failed
 * assertion ends the current test only. A test that cannot run here calls
 * SKIP(why): it is counted as skipped, never as passed. A test that ends
 * without one assertion (and without SKIP) fails: it proved nothing.
 */
#ifndef FC_TEST_HARNESS_H
#define FC_TEST_HARNESS_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(void);
};

#define MAX_TESTS 512
extern struct test_case test_cases[MAX_TESTS];
extern int nr_test_cases;
extern bool test_failed;
extern bool test_skipped;
extern int assertions;

#define TEST(name)							\
	static void test_##name(void);					\
	__attribute__((constructor)) static void register_##name(void)	\
	{								\
		test_cases[nr_test_cases++] = (struct test_case){ #name, test_##name }; \
	}								\
	static void test_##name(void)

#define FAIL(fmt, ...)							\
	do {								\
		fprintf(stderr, "    %s:%d: " fmt "\n", __FILE__, __LINE__, ##__VA_ARGS__); \
		test_failed = true;					\
		return;							\
	} while (0)

/* This machine cannot run the test (one CPU, a missing capability): say
 * why and end it; the summary counts it as skipped. */
#define SKIP(fmt, ...)							\
	do {								\
		printf("    skipped: " fmt "\n", ##__VA_ARGS__);	\
		test_skipped = true;					\
		return;							\
	} while (0)

#define ASSERT_TRUE(cond, what)						\
	do {								\
		assertions++;						\
		if (!(cond))						\
			FAIL("%s: expected true: %s", what, #cond);	\
	} while (0)

#define ASSERT_EQ(got, want, what)					\
	do {								\
		long long _g = (long long)(got), _w = (long long)(want); \
		assertions++;						\
		if (_g != _w)						\
			FAIL("%s: got %lld (0x%llx), want %lld (0x%llx)", what, \
			     _g, (unsigned long long)_g, _w, (unsigned long long)_w); \
	} while (0)

#define ASSERT_NE(got, unwanted, what)					\
	do {								\
		long long _g = (long long)(got), _u = (long long)(unwanted); \
		assertions++;						\
		if (_g == _u)						\
			FAIL("%s: got %lld, which it must not be", what, _g); \
	} while (0)

/* Whole packets, byte for byte; a hex dump of both where they differ. */
#define ASSERT_PKT_EQ(got, got_len, want, want_len, what)		\
	do {								\
		assertions++;						\
		if (!pkt_equal(got, got_len, want, want_len, what)) {	\
			test_failed = true;				\
			fprintf(stderr, "    %s:%d: packet mismatch\n", __FILE__, __LINE__); \
			return;						\
		}							\
	} while (0)

bool pkt_equal(const void *got, size_t got_len, const void *want, size_t want_len,
	       const char *what);

#endif
