-- leasehold:no-transaction
-- Scans under SHARE UPDATE EXCLUSIVE, in its own statement, after 0002 committed the NOT VALID add.
ALTER TABLE "api_keys" VALIDATE CONSTRAINT "api_keys_one_creator";
