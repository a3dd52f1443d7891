//! Group commit: concurrent writes share one transaction (one WAL sync) instead of each
//! waiting in line for its own.
//!
//! A write joins the queue and waits for its answer without holding a thread (the answer
//! comes on a oneshot channel, so an HTTP handler just awaits it). The first write that
//! finds no one leading is told to start a leader on a blocking thread: it commits every
//! queued write together, answers each, and goes on with the writes that queued meanwhile
//! until none is left. One thread commits and nobody else wakes until their answer is
//! there: under many writers the cost is one wake-up per write, not a thread each.
//!
//! A commit costs about the same for one write as for thirty, so the leader waits a little
//! (at most `LINGER`) for as many writes as were about at the last commit: writers whose
//! answers just went out come back with their next write and share this commit rather than
//! queue behind it.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

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
    /// True from the moment a write is told to lead until the leader finds the queue
    /// empty: exactly one thread commits at a time.
    leading: bool,
    /// Writes about at the end of the last commit (its group and those queued behind it):
    /// how many the next group waits for.
    expected: usize,
}

struct Waiting<W, A> {
    write: W,
    answer: oneshot::Sender<A>,
}

/// A queued write.
pub struct Queued<A> {
    /// Its answer once the group holding it is committed; closed without one if the commit
    /// panicked.
    pub answer: oneshot::Receiver<A>,
    /// True when nobody leads: the caller must run [`GroupCommit::lead`] on a thread that
    /// may block.
    pub lead: bool,
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
    /// Queues `write`.
    pub fn queue(&self, write: W) -> Queued<A> {
        let (answer, receiver) = oneshot::channel();
        let lead = {
            let mut state = self.lock();
            state.waiting.push(Waiting { write, answer });
            !std::mem::replace(&mut state.leading, true)
        };
        if !lead {
            self.joined.notify_one();
        }
        Queued {
            answer: receiver,
            lead,
        }
    }

    /// Commits the queued writes group by group until none is left. `commit` gets a group of
    /// writes in the order they came and returns one answer per write, in the same order. A
    /// commit that panics drops its group's answers; the writes behind it go on.
    pub fn lead(&self, commit: impl Fn(Vec<W>) -> Vec<A>) {
        loop {
            let group = self.gather();
            if group.is_empty() {
                return;
            }
            let size = group.len();
            let (writes, senders): (Vec<W>, Vec<_>) = group
                .into_iter()
                .map(|waiting| (waiting.write, waiting.answer))
                .unzip();
            let answers = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| commit(writes)))
                .unwrap_or_default();
            for (sender, answer) in senders.into_iter().zip(answers) {
                // A writer that is gone (its client left) no longer needs its answer; its
                // write is committed all the same.
                let _ = sender.send(answer);
            }
            let mut state = self.lock();
            state.expected = (size + state.waiting.len()).max(1);
        }
    }

    /// Takes the queue once it holds as many writes as the last commit saw, or `LINGER` has
    /// passed; an empty queue ends the lead (under the lock, so a write queued meanwhile is
    /// never left without a leader).
    fn gather(&self) -> Vec<Waiting<W, A>> {
        let deadline = Instant::now() + LINGER;
        let mut state = self.lock();
        while !state.waiting.is_empty() && state.waiting.len() < state.expected {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = match self.joined.wait_timeout(state, left) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        if state.waiting.is_empty() {
            state.leading = false;
        }
        std::mem::take(&mut state.waiting)
    }

    fn lock(&self) -> MutexGuard<'_, State<W, A>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    /// What a writer on a thread of its own does: queue, lead when told, wait.
    fn submit<W, A>(
        queue: &GroupCommit<W, A>,
        write: W,
        commit: impl Fn(Vec<W>) -> Vec<A>,
    ) -> Option<A> {
        let queued = queue.queue(write);
        if queued.lead {
            queue.lead(commit);
        }
        queued.answer.blocking_recv().ok()
    }

    #[test]
    fn a_write_alone_is_committed_by_the_writer_told_to_lead() {
        let queue = GroupCommit::default();
        let queued = queue.queue(7);
        assert!(queued.lead);
        queue.lead(|group: Vec<i32>| group.iter().map(|w| w * 2).collect());
        assert_eq!(queued.answer.blocking_recv().ok(), Some(14));
        // The lead was given up with the queue empty: the next write leads again.
        assert!(queue.queue(8).lead);
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
                            let answer = submit(&queue, write, |group: Vec<usize>| {
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
    fn a_commit_that_panics_loses_only_its_group_and_the_writes_behind_go_on() {
        let queue = Arc::new(GroupCommit::default());
        let gate = Arc::new(Barrier::new(2));
        let first = queue.queue(1);
        assert!(first.lead);
        let leader = {
            let (queue, gate) = (queue.clone(), gate.clone());
            std::thread::spawn(move || {
                queue.lead(|group: Vec<i32>| {
                    if group.contains(&1) {
                        gate.wait();
                        // Let the second write queue behind this group.
                        std::thread::sleep(Duration::from_millis(50));
                        panic!("the disk caught fire");
                    }
                    group
                });
            })
        };
        gate.wait();
        let second = queue.queue(2);
        assert!(!second.lead, "the leader is still at work");
        leader
            .join()
            .expect("the leader survives its commit's panic");
        assert!(first.answer.blocking_recv().is_err());
        assert_eq!(second.answer.blocking_recv().ok(), Some(2));
    }

    #[test]
    fn a_commit_that_answers_too_few_leaves_the_rest_unanswered_not_hanging() {
        let queue = GroupCommit::default();
        assert_eq!(submit(&queue, 1, |_: Vec<i32>| Vec::<i32>::new()), None);
    }

    #[test]
    fn a_writer_that_left_still_has_its_write_committed() {
        let queue = GroupCommit::default();
        let committed = AtomicUsize::new(0);
        let queued = queue.queue(5);
        drop(queued.answer);
        queue.lead(|group: Vec<usize>| {
            committed.fetch_add(group.iter().sum(), Ordering::SeqCst);
            group
        });
        assert_eq!(committed.load(Ordering::SeqCst), 5);
    }
}
