-- NOT VALID takes ACCESS EXCLUSIVE only for the catalog change, not for a scan of existing rows;
-- 0003 validates them under a lock that lets writes continue.
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_one_creator" CHECK (num_nonnulls("api_keys"."creator_user_id", "api_keys"."creator_service_account_id") <= 1) NOT VALID;
