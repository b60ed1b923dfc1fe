-- [beyond] issue #13: the waiting reason (branch, worker, user-limit) last announced in the run's
-- events, so that a worker's claim pass appends a "Waiting ..." log event once per reason change.
ALTER TABLE runs ADD COLUMN wait_announced TEXT CHECK (wait_announced IN ('branch','worker','user-limit'));
