// SPDX-License-Identifier: GPL-2.0-only
/* The fleet's immune memory and the vaccination decision (fleet_memory.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "fleet_memory.h"

void fleet_memory_init(struct fleet_memory *m)
{
	memset(m, 0, sizeof(*m));
}

void fleet_memory_free(struct fleet_memory *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].hosts);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

struct fleet_bad *fleet_memory_find(const struct fleet_memory *m, const char *sha256)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].sha256, sha256))
			return &m->v[i];
	return NULL;
}

static uint64_t newest(const struct fleet_bad *b)
{
	uint64_t t = 0;
	size_t i;

	for (i = 0; i < b->n_hosts; i++)
		if (b->hosts[i].at_ms > t)
			t = b->hosts[i].at_ms;
	return t;
}

static void drop(struct fleet_memory *m, size_t i)
{
	free(m->v[i].hosts);
	m->v[i] = m->v[--m->n];
}

/* A slot for a new binary: grow, or forget the quietest one not vaccinated. */
static struct fleet_bad *slot(struct fleet_memory *m)
{
	size_t i, victim = (size_t)-1;

	if (m->n == m->cap && m->cap < FLEET_IDS_MAX) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct fleet_bad *grown;

		if (cap > FLEET_IDS_MAX)
			cap = FLEET_IDS_MAX;
		grown = realloc(m->v, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		m->v = grown;
		m->cap = cap;
	}
	if (m->n == m->cap) {
		for (i = 0; i < m->n; i++)
			if (!m->v[i].vaccinated &&
			    (victim == (size_t)-1 || newest(&m->v[i]) < newest(&m->v[victim])))
				victim = i;
		if (victim == (size_t)-1)
			return NULL;
		drop(m, victim);
		m->evicted++;
	}
	memset(&m->v[m->n], 0, sizeof(m->v[0]));
	return &m->v[m->n++];
}

int fleet_memory_report(struct fleet_memory *m, const struct fleet_report *r, uint64_t at_ms)
{
	struct fleet_bad *b = fleet_memory_find(m, r->sha256);
	struct fleet_seen *s = NULL;
	size_t i;

	if (!b) {
		b = slot(m);
		if (!b)
			return -ENOMEM;
		memcpy(b->sha256, r->sha256, sizeof(b->sha256));
	}
	memcpy(b->build_id, r->build_id, sizeof(b->build_id));
	memcpy(b->path, r->path, sizeof(b->path));
	for (i = 0; i < b->n_hosts; i++)
		if (!strcmp(b->hosts[i].host, r->host))
			s = &b->hosts[i];
	if (!s) {
		if (b->n_hosts == b->cap_hosts && b->cap_hosts < FLEET_HOSTS_PER_ID) {
			size_t cap = b->cap_hosts ? b->cap_hosts * 2 : 4;
			struct fleet_seen *grown = realloc(b->hosts, cap * sizeof(*grown));

			if (!grown)
				return -ENOMEM;
			b->hosts = grown;
			b->cap_hosts = cap;
		}
		if (b->n_hosts == b->cap_hosts) {
			/* Full: the oldest line makes room. */
			s = &b->hosts[0];
			for (i = 1; i < b->n_hosts; i++)
				if (b->hosts[i].at_ms < s->at_ms)
					s = &b->hosts[i];
		} else {
			s = &b->hosts[b->n_hosts++];
		}
		memcpy(s->host, r->host, sizeof(s->host));
	}
	s->at_ms = at_ms;
	s->count = r->count > FLEET_COUNT_CAP ? FLEET_COUNT_CAP : r->count;
	s->signo = r->signo;
	return 0;
}

void fleet_memory_forget(struct fleet_memory *m, const char *sha256, const char *host)
{
	struct fleet_bad *b = fleet_memory_find(m, sha256);
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->n_hosts; i++)
		if (!strcmp(b->hosts[i].host, host)) {
			b->hosts[i] = b->hosts[--b->n_hosts];
			return;
		}
}

uint32_t fleet_bad_distinct(const struct fleet_bad *b, uint64_t now_ms, uint64_t window_ms)
{
	uint32_t n = 0;
	size_t i;

	/* Host names are unique in b->hosts, so each line is one host. */
	for (i = 0; i < b->n_hosts; i++)
		if (b->hosts[i].at_ms + window_ms >= now_ms)
			n++;
	return n;
}

size_t fleet_memory_eval(struct fleet_memory *m, uint64_t now_ms, uint32_t k, uint64_t window_ms,
			 struct fleet_change *out, size_t max)
{
	size_t i, n = 0;

	if (k < 2)
		k = 2; /* never one host alone, whatever the caller says */
	for (i = 0; i < m->n; i++) {
		struct fleet_bad *b = &m->v[i];

		b->distinct = fleet_bad_distinct(b, now_ms, window_ms);
		if (!b->vaccinated && !b->released && b->distinct >= k) {
			if (n == max)
				continue; /* next evaluation */
			b->vaccinated = 1;
			b->since_ms = now_ms;
			out[n++] = (struct fleet_change){ FLEET_VACCINATE, b };
		} else if ((b->vaccinated || b->released) && b->distinct < k) {
			if (n == max)
				continue;
			out[n++] = (struct fleet_change){ FLEET_FADE, b };
			b->vaccinated = 0;
			b->released = 0;
		}
	}
	return n;
}

void fleet_memory_gc(struct fleet_memory *m, uint64_t now_ms, uint64_t window_ms)
{
	size_t i;

	for (i = 0; i < m->n;) {
		if (!m->v[i].vaccinated && newest(&m->v[i]) + 2 * window_ms < now_ms)
			drop(m, i);
		else
			i++;
	}
}

int fleet_memory_release(struct fleet_memory *m, const char *sha256)
{
	struct fleet_bad *b = fleet_memory_find(m, sha256);

	if (!b || !b->vaccinated)
		return -ENOENT;
	b->vaccinated = 0;
	b->released = 1;
	return 0;
}

void fleet_bucket_init(struct fleet_bucket *b, uint32_t rate, uint32_t burst, uint64_t now_ns)
{
	b->rate = rate;
	b->burst = burst;
	b->tokens = burst;
	b->last_ns = now_ns;
}

int fleet_bucket_take(struct fleet_bucket *b, uint64_t now_ns)
{
	if (now_ns > b->last_ns) {
		b->tokens += (double)(now_ns - b->last_ns) / 1e9 * b->rate;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last_ns = now_ns;
	}
	if (b->tokens < 1.0)
		return 0;
	b->tokens -= 1.0;
	return 1;
}
