-- [beyond] issue #13: the waiting reason (branch, worker, user-limit) last announced in the run's
-- events, so that a worker's claim pass (on any node) appends a "Waiting ..." log event once per reason change.
ALTER TABLE runs ADD COLUMN wait_announced text CHECK (wait_announced IN ('branch','worker','user-limit'));
