// zdtm-desc: a MAP_SHARED anonymous region stays shared with a child (writes seen both ways)
// zdtm-disturb: PID=$(child_of $PID) gdb_call '(long)mmap(*(long *)&shm, 4096 * 16, 3, 0x32, -1, 0)'
#include "lib.h"

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define LEN (16 * 4096)

/* The first words are a mailbox; the rest is a pattern. */
struct box {
	int ping, pong;
};
char *shm;

/* Wait (at most 5 s) until *word == want. */
static bool wait_word(int *word, int want)
{
	struct timespec end, now, ts = { 0, 50 * 1000 * 1000 };
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += 5;
	while (__atomic_load_n(word, __ATOMIC_SEQ_CST) != want) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec > end.tv_nsec))
			return false;
		syscall(SYS_futex, word, FUTEX_WAIT, __atomic_load_n(word, __ATOMIC_SEQ_CST), &ts,
			NULL, 0);
	}
	return true;
}

static void set_word(int *word, int v)
{
	__atomic_store_n(word, v, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static int child(void *arg)
{
	struct box *b = arg;
	/* Across checkpoint/restore the ping may take any time to come. */
	while (!wait_word(&b->ping, 1))
		;
	CHECK(datachk(shm + 4096, LEN - 4096, 5) < 0, "child: the shared data differs");
	set_word(&b->pong, 1);
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	shm = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(shm != MAP_FAILED, "mmap: %m");
	struct box *b = (struct box *)shm;
	datagen(shm + 4096, LEN - 4096, 4);
	pid_t pid = test_fork(child, b);
	test_ready();
	test_waitsig();

	/* Rewrite the pattern after restore: the child must see it. */
	CHECK(datachk(shm + 4096, LEN - 4096, 4) < 0, "the shared data differs");
	datagen(shm + 4096, LEN - 4096, 5);
	set_word(&b->ping, 1);
	CHECK(wait_word(&b->pong, 1), "the child never answered: the region is no longer shared");
	test_wait_ok(pid);
	pass();
}
