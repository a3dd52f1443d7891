//! Group commit: concurrent writes share one transaction (one WAL sync) instead of each
//! waiting in line for its own.
//!
//! A write joins the queue. The thread that finds no one leading leads: it commits every
//! queued write together, answers each, then hands the lead to the oldest write still
//! waiting, whose thread commits the next group. Every other thread sleeps on its own
//! answer, so nobody queues for a lock only to learn that its write is already done, and a
//! thread never goes on committing other writes long after its own was answered.
//!
//! A commit costs about the same for one write as for thirty, so the leader waits a little
//! (at most `LINGER`) for as many writes as were about at the last commit: writers whose
//! answers just went out come back with their next write and share this commit rather than
//! queue behind it.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The longest a leader waits for writes to join its group: about what one commit costs
/// under load here (3-4 ms), the time writers just answered take to come back. A writer
/// alone never waits. (`make bench ONLY=writers`: 1 ms left 32 clients' groups at ~18 writes;
/// 5 ms filled them but gained nothing more.)
const LINGER: Duration = Duration::from_millis(3);

pub struct GroupCommit<W, A> {
    state: Mutex<State<W, A>>,
    /// Signalled when a write joins while a leader is gathering its group.
    joined: Condvar,
}

struct State<W, A> {
    waiting: Vec<Waiting<W, A>>,
    /// True from the moment a thread takes the lead until it hands it on or finds the queue
    /// empty: exactly one thread commits at a time.
    leading: bool,
    /// Writes about at the end of the last commit (its group and those queued behind it):
    /// how many the next leader waits for.
    expected: usize,
}

struct Waiting<W, A> {
    write: W,
    turn: SyncSender<Turn<A>>,
}

/// What a waiting thread is woken with.
enum Turn<A> {
    /// Its write is committed (or failed): the answer.
    Done(A),
    /// Its write is the oldest still queued: it commits the next group.
    Lead,
}

impl<W, A> Default for GroupCommit<W, A> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                waiting: Vec::new(),
                leading: false,
                expected: 1,
            }),
            joined: Condvar::new(),
        }
    }
}

impl<W, A> GroupCommit<W, A> {
    /// Queues `write` and returns its answer once the group holding it is committed.
    /// `commit` gets a group of writes in the order they came and returns one answer per
    /// write, in the same order. `None` when the write was lost without an answer (the
    /// committing thread panicked).
    pub fn submit(&self, write: W, commit: impl Fn(Vec<W>) -> Vec<A>) -> Option<A> {
        // Room for the lead and, later, the answer: neither send ever blocks.
        let (turn, wake) = sync_channel(2);
        let lead = {
            let mut state = self.lock();
            state.waiting.push(Waiting { write, turn });
            !std::mem::replace(&mut state.leading, true)
        };
        if lead {
            self.lead(&commit);
        } else {
            self.joined.notify_one();
        }
        self.wait(&wake, &commit)
    }

    fn wait(&self, wake: &Receiver<Turn<A>>, commit: &impl Fn(Vec<W>) -> Vec<A>) -> Option<A> {
        loop {
            match wake.recv().ok()? {
                Turn::Done(answer) => return Some(answer),
                Turn::Lead => self.lead(commit),
            }
        }
    }

    /// Commits everything queued as one group and answers each write; then (even if the
    /// commit panicked) passes the lead on.
    fn lead(&self, commit: &impl Fn(Vec<W>) -> Vec<A>) {
        let mut hand_on = HandOn {
            queue: self,
            group: 0,
        };
        let group = self.gather();
        hand_on.group = group.len();
        let (writes, turns): (Vec<W>, Vec<_>) = group
            .into_iter()
            .map(|waiting| (waiting.write, waiting.turn))
            .unzip();
        for (turn, answer) in turns.into_iter().zip(commit(writes)) {
            // A thread that is gone no longer needs its answer.
            let _ = turn.try_send(Turn::Done(answer));
        }
    }

    /// Takes the queue once it holds as many writes as the last commit saw, or `LINGER` has
    /// passed.
    fn gather(&self) -> Vec<Waiting<W, A>> {
        let deadline = Instant::now() + LINGER;
        let mut state = self.lock();
        while state.waiting.len() < state.expected {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = match self.joined.wait_timeout(state, left) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        std::mem::take(&mut state.waiting)
    }

    fn lock(&self) -> MutexGuard<'_, State<W, A>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Hands the lead to the oldest waiting write when a group is over, or gives it up when none
/// is waiting (under the queue's lock, so a write queued meanwhile is never left without a
/// leader).
struct HandOn<'a, W, A> {
    queue: &'a GroupCommit<W, A>,
    /// The size of the group just committed.
    group: usize,
}

impl<W, A> Drop for HandOn<'_, W, A> {
    fn drop(&mut self) {
        let mut state = self.queue.lock();
        state.expected = (self.group + state.waiting.len()).max(1);
        while let Some(oldest) = state.waiting.first() {
            match oldest.turn.try_send(Turn::Lead) {
                Ok(()) => return,
                // Its thread is gone (it cannot be full: it holds nothing yet).
                Err(TrySendError::Disconnected(_) | TrySendError::Full(_)) => {
                    state.waiting.remove(0);
                }
            }
        }
        state.leading = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    #[test]
    fn a_write_alone_is_committed_by_its_own_thread() {
        let queue = GroupCommit::default();
        assert_eq!(
            queue.submit(7, |group| group.iter().map(|w| w * 2).collect()),
            Some(14)
        );
        assert_eq!(
            queue.submit(8, |group| group.iter().map(|w| w * 2).collect()),
            Some(16)
        );
    }

    #[test]
    fn concurrent_writes_share_commits_and_each_gets_its_own_answer() {
        let queue = Arc::new(GroupCommit::default());
        let commits = Arc::new(AtomicUsize::new(0));
        let threads = 32;
        let start = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|n| {
                let (queue, commits, start) = (queue.clone(), commits.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    (0..20)
                        .map(|round| {
                            let write = n * 1000 + round;
                            let answer = queue.submit(write, |group: Vec<usize>| {
                                commits.fetch_add(1, Ordering::SeqCst);
                                // Slow enough for others to queue behind it.
                                std::thread::sleep(Duration::from_millis(2));
                                group.iter().map(|w| w + 1).collect()
                            });
                            (write, answer)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in handles {
            for (write, answer) in handle.join().expect("a writer thread") {
                assert_eq!(answer, Some(write + 1));
            }
        }
        let commits = commits.load(Ordering::SeqCst);
        assert!(commits < threads * 20, "{commits} commits for 640 writes");
    }

    #[test]
    fn a_commit_that_panics_loses_only_its_group_and_the_queue_goes_on() {
        let queue = Arc::new(GroupCommit::default());
        let panicking = {
            let queue = queue.clone();
            std::thread::spawn(move || {
                queue.submit(1, |_: Vec<i32>| -> Vec<i32> {
                    panic!("the disk caught fire")
                })
            })
        };
        assert!(panicking.join().is_err());
        // The lead was handed on (here: given up), so the next write commits.
        assert_eq!(queue.submit(2, |group| group), Some(2));
    }

    #[test]
    fn a_commit_that_answers_too_few_leaves_the_rest_unanswered_not_hanging() {
        let queue = Arc::new(GroupCommit::default());
        let gate = Arc::new(Barrier::new(2));
        let first = {
            let (queue, gate) = (queue.clone(), gate.clone());
            std::thread::spawn(move || {
                queue.submit(1, |group: Vec<i32>| {
                    gate.wait();
                    // Let the second write queue behind this group.
                    std::thread::sleep(Duration::from_millis(50));
                    group
                })
            })
        };
        gate.wait();
        // This group holds one write and answers nothing for it.
        let second = queue.submit(2, |_| Vec::new());
        assert_eq!(first.join().expect("the first writer"), Some(1));
        assert_eq!(second, None);
    }
}
