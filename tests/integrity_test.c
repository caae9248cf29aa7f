// SPDX-License-Identifier: GPL-2.0-only
/*
 * Integrity spot checks (userspace/integrity.c), without root: SHA-256
 * against known vectors and sha256sum(1), the record made at first run
 * (kept in sha256sum format), a modified protected binary detected and
 * reported once, the record surviving a restart, a deleted binary, and an
 * administrator accepting new contents.
 *
 * integrity.c is not in the Makefile's CORE_SRCS yet: it is included here.
 */
#include "helpers.h"
#include "kselftest_harness.h"
#include "integrity.h"
#include "sha256.h"

static bool have_libcrypto(void)
{
	return integrity_can_hash();
}

TEST(known_vectors)
{
	char dir[256], path[300], hex[65];
	unsigned char d[SHA256_LEN];

	if (!have_libcrypto())
		SKIP(return, "libcrypto.so.3 (package libssl3) cannot be loaded");
	ASSERT_EQ(0, th_mkdtemp(dir, sizeof(dir), "sha"));
	snprintf(path, sizeof(path), "%s/abc", dir);
	ASSERT_EQ(0, th_write_file(path, "abc", 0644));
	ASSERT_EQ(0, sha256_file(path, d));
	sha256_hex(d, hex);
	EXPECT_STREQ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex);
	ASSERT_EQ(0, th_write_file(path, "", 0644));
	ASSERT_EQ(0, sha256_file(path, d));
	sha256_hex(d, hex);
	EXPECT_STREQ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", hex);
	EXPECT_EQ(-ENOENT, sha256_file("/nonexistent/lymph/binary", d));
	th_rmdir_flat(dir);
}

/* lib/sha256.c at every padding boundary, fed in odd pieces, against
 * sha256sum(1). */
TEST(block_boundaries_in_pieces)
{
	static const size_t lens[] = { 0,   1,	 3,   55,  56,	57,   63,    64,    65,
				       119, 120, 127, 128, 129, 1000, 65536, 65537, 200003 };
	static unsigned char data[200003];
	char dir[256], path[300], cmd[400], want[80];
	unsigned char d[LYMPH_SHA256_LEN];
	uint32_t seed = 12345;
	size_t i, k;

	ASSERT_EQ(0, th_mkdtemp(dir, sizeof(dir), "sha"));
	snprintf(path, sizeof(path), "%s/data", dir);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)((seed = seed * 1103515245 + 12345) >> 16);
	for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		struct lymph_sha256 c;
		char hex[65];
		FILE *f = fopen(path, "w");

		ASSERT_NE(NULL, f);
		ASSERT_EQ(lens[k], fwrite(data, 1, lens[k], f));
		ASSERT_EQ(0, fclose(f));
		snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
		f = popen(cmd, "r");
		ASSERT_NE(NULL, f);
		ASSERT_NE(NULL, fgets(want, sizeof(want), f));
		pclose(f);
		want[64] = 0;
		ASSERT_EQ(0, lymph_sha256_init(&c));
		for (i = 0; i < lens[k];) {
			size_t n = (i * 7 + 13) % 97;

			if (n > lens[k] - i)
				n = lens[k] - i;
			lymph_sha256_update(&c, data + i, n);
			i += n;
		}
		ASSERT_EQ(0, lymph_sha256_final(&c, d));
		sha256_hex(d, hex);
		EXPECT_STREQ(want, hex) TH_LOG("length %zu", lens[k]);
		ASSERT_EQ(0, sha256_file(path, d));
		sha256_hex(d, hex);
		EXPECT_STREQ(want, hex) TH_LOG("sha256_file, length %zu", lens[k]);
	}
	th_rmdir_flat(dir);
}

TEST(agrees_with_sha256sum)
{
	char cmd[512], want[80] = "", hex[65];
	const char *bin = "/bin/sh";
	unsigned char d[SHA256_LEN];
	FILE *p;

	if (!have_libcrypto())
		SKIP(return, "libcrypto.so.3 (package libssl3) cannot be loaded");
	snprintf(cmd, sizeof(cmd), "sha256sum %s", bin);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, fgets(want, sizeof(want), p));
	pclose(p);
	want[64] = 0;
	ASSERT_EQ(0, sha256_file(bin, d));
	sha256_hex(d, hex);
	EXPECT_STREQ(want, hex);
}

FIXTURE(protected)
{
	char dir[256];
	char db[300], bin1[300], bin2[300];
	const char *paths[4];
	struct integrity g;
};

FIXTURE_SETUP(protected)
{
	memset(&self->g, 0, sizeof(self->g));
	if (!have_libcrypto())
		SKIP(return, "libcrypto.so.3 (package libssl3) cannot be loaded");
	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "integrity"));
	snprintf(self->db, sizeof(self->db), "%s/integrity", self->dir);
	snprintf(self->bin1, sizeof(self->bin1), "%s/daemon", self->dir);
	snprintf(self->bin2, sizeof(self->bin2), "%s/helper", self->dir);
	ASSERT_EQ(0, th_copy_file("/bin/true", self->bin1, 0755));
	ASSERT_EQ(0, th_write_file(self->bin2, "#!/bin/sh\nexit 0\n", 0644));
	self->paths[0] = self->bin1;
	self->paths[1] = self->bin2;
	self->paths[2] = self->bin1;	     /* duplicates are fine */
	self->paths[3] = "relative/ignored"; /* only absolute paths */
}

FIXTURE_TEARDOWN(protected)
{
	integrity_free(&self->g);
	th_rmdir_flat(self->dir);
}

/* Check until bin comes round (round robin): the return of its check. */
static int check_path(struct integrity *g, const char *path, struct json_object **ev)
{
	size_t i;
	int r = -ENOENT;

	for (i = 0; i < g->n; i++) {
		const char *next = g->v[g->next].path;

		r = integrity_check_one(g, 1000, ev);
		if (!strcmp(next, path))
			return r;
		json_object_put(*ev);
		*ev = NULL;
	}
	return -ENOENT;
}

TEST_F(protected, first_run_records_in_sha256sum_format)
{
	char cmd[400];

	ASSERT_EQ(0, integrity_init(&self->g, self->db, self->paths, 4));
	EXPECT_EQ(2u, self->g.n);
	EXPECT_EQ(0, access(self->db, R_OK));
	/* sha256sum agrees with every line. */
	snprintf(cmd, sizeof(cmd), "sha256sum --quiet -c '%s' >&2", self->db);
	EXPECT_EQ(0, system(cmd));
}

TEST_F(protected, modified_binary_detected_once)
{
	struct json_object *ev = NULL, *v;
	FILE *f;

	ASSERT_EQ(0, integrity_init(&self->g, self->db, self->paths, 4));
	EXPECT_EQ(0, check_path(&self->g, self->bin1, &ev));
	EXPECT_EQ(NULL, ev);
	EXPECT_EQ(0u, integrity_changed(&self->g));

	/* Someone patches the protected binary. */
	f = fopen(self->bin1, "a");
	ASSERT_NE(NULL, f);
	fputc(0x90, f);
	fclose(f);

	ASSERT_EQ(1, check_path(&self->g, self->bin1, &ev));
	ASSERT_NE(NULL, ev);
	EXPECT_STREQ("integrity", json_object_get_string(th_json_get(ev, "type")));
	EXPECT_STREQ("danger", json_object_get_string(th_json_get(ev, "class")));
	EXPECT_STREQ(self->bin1, json_object_get_string(th_json_get(ev, "path")));
	v = th_json_get(ev, "actual_sha256");
	ASSERT_NE(NULL, v);
	EXPECT_STRNE(json_object_get_string(v),
		     json_object_get_string(th_json_get(ev, "expected_sha256")));
	json_object_put(ev);
	ev = NULL;
	EXPECT_EQ(1u, integrity_changed(&self->g));
	EXPECT_EQ(1u, self->g.mismatches);

	/* Reported once; still counted as changed. */
	EXPECT_EQ(0, check_path(&self->g, self->bin1, &ev));
	EXPECT_EQ(NULL, ev);
	EXPECT_EQ(1u, integrity_changed(&self->g));
	/* The other binary is fine. */
	EXPECT_EQ(0, check_path(&self->g, self->bin2, &ev));
}

TEST_F(protected, record_survives_restart_and_accept)
{
	struct json_object *ev = NULL;
	char cmd[400];

	ASSERT_EQ(0, integrity_init(&self->g, self->db, self->paths, 2));
	integrity_free(&self->g);
	/* Changed while lymphd was not running: the restart must not take
	 * the new contents as the record. */
	ASSERT_EQ(0, th_write_file(self->bin2, "#!/bin/sh\nrm -rf /\n", 0644));
	ASSERT_EQ(0, integrity_init(&self->g, self->db, self->paths, 2));
	ASSERT_EQ(1, check_path(&self->g, self->bin2, &ev));
	json_object_put(ev);
	ev = NULL;

	/* The administrator accepts it (an upgrade). */
	ASSERT_EQ(0, integrity_accept(&self->g, self->bin2));
	EXPECT_EQ(0u, integrity_changed(&self->g));
	EXPECT_EQ(0, check_path(&self->g, self->bin2, &ev));
	snprintf(cmd, sizeof(cmd), "sha256sum --quiet -c '%s' >&2", self->db);
	EXPECT_EQ(0, system(cmd));
	EXPECT_EQ(-ENOENT, integrity_accept(&self->g, "/bin/not-watched"));
}

TEST_F(protected, deleted_binary_is_a_change)
{
	struct json_object *ev = NULL;

	ASSERT_EQ(0, integrity_init(&self->g, self->db, self->paths, 2));
	ASSERT_EQ(0, unlink(self->bin2));
	ASSERT_EQ(1, check_path(&self->g, self->bin2, &ev));
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(NULL, th_json_get(ev, "actual_sha256"));
	json_object_put(ev);
	EXPECT_EQ(1u, integrity_changed(&self->g));
}

TEST_F(protected, json_lists_changed)
{
	struct json_object *ev = NULL, *o;

	ASSERT_EQ(0, integrity_init(&self->g, self->db, self->paths, 2));
	ASSERT_EQ(0, th_write_file(self->bin2, "changed\n", 0644));
	ASSERT_EQ(1, check_path(&self->g, self->bin2, &ev));
	json_object_put(ev);
	o = integrity_json(&self->g);
	EXPECT_EQ(2, json_object_get_int(th_json_get(o, "watched")));
	ASSERT_EQ(1u, json_object_array_length(th_json_get(o, "changed")));
	EXPECT_STREQ(self->bin2, json_object_get_string(
					 json_object_array_get_idx(th_json_get(o, "changed"), 0)));
	json_object_put(o);
}

TEST_HARNESS_MAIN
