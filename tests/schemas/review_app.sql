-- The seed review's own application (/work/shared/seed/production-database-review.md), as
-- TypeORM (synchronize: true, SnakeNamingStrategy) creates it on PostgreSQL: uuid primary keys
-- from gen_random_uuid(), created_at/updated_at/deleted_at timestamptz on every entity (BaseEntity),
-- enum types named <table>_<column>_enum, constraint and index names PK_/FK_/UQ_/IDX_<hash>.
--
-- The review's defects are planted as the review describes them:
--   1.1.1/2.1.1/2.1.2  no foreign keys on generated_images' *_id columns, user_businesses.user_id
--                      and contact_forms.read_by (plain uuid columns)
--   1.1.4              nullable generated_images.user_id and contact_forms.email
--   3.1.1              generated_images.user_id only in a partial composite index
--   3.1 "removed unnecessary indexes from small admin tables": FKs of product_types, product_poses
--                      and ai_faces carry no index
--   3.3.1              users.credits is a plain integer with no CHECK (credits >= 0)
--   3.3.2/3.3.3/7.1    generated_images and credit_transactions: append-mostly, keyed by
--                      created_at, not partitioned
--   4.2.1              no lock_timeout anywhere (nothing in this file sets one)
--   4.3.1/4.3.2        no idempotency key on credit_transactions nor request id on generated_images
--   5.1.1/5.3.1        no migrations table (synchronize: true)
--   6.1.1/6.1.2        users.refresh_token and users.password_reset_token stored as plain varchar
--   6.1.3/6.1.4        contact_forms holds name, email, phone, message, ip_address, user_agent in clear
--   7.1.3              otps with expires_at and no cleanup
-- The review's well-designed parts are kept: bcrypt hashes in password_hash/otp_hash, soft deletes,
-- cascade rules on user_addresses and the catalogue tables, composite index (user_id, created_at)
-- on credit_transactions, junction tables with both directions indexed.
-- Uses only built-in functions (gen_random_uuid() is core since PostgreSQL 13).

create type "users_role_enum" as enum ('user', 'admin', 'super_admin');
create type "users_status_enum" as enum ('active', 'inactive', 'suspended', 'pending_verification');
create type "otps_purpose_enum" as enum ('email_verification', 'password_reset', 'login');
create type "contact_forms_status_enum" as enum ('new', 'read', 'replied', 'archived');
create type "credit_transactions_operation_type_enum" as enum ('purchase', 'deduction', 'refund', 'bonus', 'admin_adjustment');
create type "generated_images_generation_status_enum" as enum ('pending', 'processing', 'completed', 'failed');
create type "ai_faces_gender_enum" as enum ('male', 'female', 'neutral');
create type "legal_documents_type_enum" as enum ('terms_of_service', 'privacy_policy', 'cookie_policy');

create table "users" (
  "id" uuid not null default gen_random_uuid(),
  "email" character varying(255) not null,
  "password_hash" character varying(255) not null,
  "first_name" character varying(100),
  "last_name" character varying(100),
  "phone" character varying(20),
  "role" "users_role_enum" not null default 'user',
  "status" "users_status_enum" not null default 'pending_verification',
  "credits" integer not null default 0,
  "email_verified" boolean not null default false,
  "refresh_token" character varying(255),
  "password_reset_token" character varying(255),
  "password_reset_expires" timestamp with time zone,
  "last_login_at" timestamp with time zone,
  "created_at" timestamp with time zone not null default now(),
  "updated_at" timestamp with time zone not null default now(),
  "deleted_at" timestamp with time zone,
  constraint "UQ_97672ac88f789774dd47f7c8be3" unique ("email"),
  constraint "PK_a3ffb1c0c8416b9fc6f907b7433" primary key ("id")
);
create index "IDX_users_role_status" on "users" ("role", "status");
create index "IDX_users_status_created_at" on "users" ("status", "created_at");

create table "user_addresses" (
  "id" uuid not null default gen_random_uuid(),
  "user_id" uuid not null,
  "address_line1" character varying(255) not null,
  "address_line2" character varying(255),
  "city" character varying(100) not null,
  "state" character varying(100),
  "postal_code" character varying(20),
  "country" character varying(2) not null,
  "is_default" boolean not null default false,
  "created_at" timestamp with time zone not null default now(),
  "updated_at" timestamp with time zone not null default now(),
  "deleted_at" timestamp with time zone,
  constraint "PK_8abbeb5e3239ff7877088ffc25b" primary key ("id")
);
create index "IDX_7a5100ce0548ef27a6f1533a5c" on "user_addresses" ("user_id");

create table "user_businesses" (
  "id" uuid not null default gen_random_uuid(),
  "user_id" uuid not null,
  "business_name" character varying(255) not null,
  "business_type" character varying(100),
  "website" character varying(255),
  "business_description" text,
  "created_at" timestamp with time zone not null default now(),
  "updated_at" timestamp with time zone not null default now(),
  "deleted_at" timestamp with time zone,
  constraint "UQ_1f6a5c38c1b4d0cbd6e6f7a7b0e" unique ("user_id"),
  constraint "PK_5d5b1e1e3a3f0a7f2c8c2b8a1d4" primary key ("id")
);

create table "otps" (
  "id" uuid not null default gen_random_uuid(),
  "email" character varying(255) not null,
  "otp_hash" character varying(255) not null,
  "purpose" "otps_purpose_enum" not null,
  "attempts" integer not null default 0,
  "expires_at" timestamp with time zone not null,
  "used_at" timestamp with time zone,
  "created_at" timestamp with time zone not null default now(),
  "updated_at" timestamp with time zone not null default now(),
  "deleted_at" timestamp with time zone,
  constraint "PK_91fef5ed60605b854a2115d2410" primary key ("id")
);
create index "IDX_otps_expires_at" on "otps" ("expires_at") where "used_at" is null;

create table "contact_forms" (
  "id" uuid not null default gen_random_uuid(),
  "name" character varying(255) not null,
  "email" character varying(255),
  "phone" character varying(20),
  "subject" character varying(255),
  "message" text not null,
  "status" "contact_forms_status_enum" not null default 'new',
  "ip_address" character varying(45),
  "user_agent" text,
  "read_at" timestamp with time zone,
  "read_by" uuid,
  "created_at" timestamp with time zone not null default now(),
  "updated_at" timestamp with time zone not null default now(),
  "deleted_at" timestamp with time zone,
  constraint "PK_3c6b2a5f0b1e7c3d2a9f8e7d6c5" primary key ("id")
);

create table "credit_transactions" (
  "id" uuid not null default gen_random_uuid(),
  "user_id" uuid not null,
  "operation_type" "credit_transactions_operation_type_enum" not null,
  "amount" integer not null,
  "balance_before" integer not null,
  "balance_after" integer not null,
  "description" character varying(500),
  "created_at" timestamp with time zone not null default now(),
  "updated_at" timestamp with time zone not null default now(),
  "deleted_at" timestamp with time zone,
  constraint "PK_a408319811d1ab32832ec86fc2c" primary key ("id")
);
create index "IDX_credit_transactions_user_id_created_at" on "credit_transactions" ("user_id", "created_at");

create table "industries" (
  "id" uuid not null default gen_random_uuid(),
  "name" character varying(100) not null,
  "slug" character varying(100) not null,
  "is_active" boolean not null default true,
  "sort_order" integer not null default 0,
  "created_at" timestamp with time zone not null default now(),
  "updated_at" timestamp with time zone not null default now(),
  "deleted_at" timestamp with time zone,
  constraint "UQ_industries_slug" unique ("slug"),
  constraint "PK_f1626dcb2d58142d7dfcca7b8d1" primary key ("id")
);

create table "categories" (
  "id" uuid not null default gen_random_uuid(),
  "name" character varying(100) not null,
  "slug" character varying(100) not null,
  "description" text,
  "is_active" boolean not null default true,
  "sort_order" integer not null default 0,
  "created_at" timestamp with time zone not null default now(),
  "updated_at" timestamp with time zone not null default now(),
  "deleted_at" timestamp with time zone,
  constraint "UQ_categories_slug" unique ("slug"),
  constraint "PK_24dbc6126a28ff948da33e97d3b" primary key ("id")
);

create table "product_types" (
  "id" uuid not null default gen_random_uuid(),
  "category_id" uuid not null,
  "name" character varying(100) not null,
  "slug" character varying(100) not null,
  "is_active" boolean not null default true,
  "created_at" timestamp with time zone not null default now(),
  "updated_at" timestamp with time zone not null default now(),
  "deleted_at" timestamp with time zone,
  constraint "PK_6ad7b08e6491a02ebc9ed82019d" primary key ("id")
);

create table "product_poses" (
  "id" uuid not null default gen_random_uuid(),
  "product_type_id" uuid not null,
  "name" character varying(100) not null,
  "image_url" character varying(500),
  "is_active" boolean not null default true,
  "created_at" timestamp with time zone not null default now(),
  "updated_at" timestamp with time zone not null default now(),
  "deleted_at" timestamp with time zone,
  constraint "PK_0c7b5e6f4c3a2b1d9e8f7a6b5c4" primary key ("id")
);

create table "product_themes" (
  "id" uuid not null default gen_random_uuid(),
  "name" character varying(100) not null,
  "description" text,
  "image_url" character varying(500),
  "is_active" boolean not null default true,
  "created_at" timestamp with time zone not null default now(),
  "updated_at" timestamp with time zone not null default now(),
  "deleted_at" timestamp with time zone,
  constraint "PK_1d8c6f5e4b3a2c1d0e9f8a7b6c5" primary key ("id")
);

create table "product_backgrounds" (
  "id" uuid not null default gen_random_uuid(),
  "name" character varying(100) not null,
  "image_url" character varying(500),
  "is_active" boolean not null default true,
  "created_at" timestamp with time zone not null default now(),
  "updated_at" timestamp with time zone not null default now(),
  "deleted_at" timestamp with time zone,
  constraint "PK_2e9d7a6f5c4b3d2e1f0a9b8c7d6" primary key ("id")
);

create table "ai_faces" (
  "id" uuid not null default gen_random_uuid(),
  "category_id" uuid not null,
  "name" character varying(100) not null,
  "gender" "ai_faces_gender_enum" not null default 'neutral',
  "image_url" character varying(500) not null,
  "is_active" boolean not null default true,
  "created_at" timestamp with time zone not null default now(),
  "updated_at" timestamp with time zone not null default now(),
  "deleted_at" timestamp with time zone,
  constraint "PK_3f0e8b7a6d5c4e3f2a1b0c9d8e7" primary key ("id")
);

create table "generated_images" (
  "id" uuid not null default gen_random_uuid(),
  "user_id" uuid,
  "industry_id" uuid,
  "category_id" uuid,
  "product_type_id" uuid,
  "product_pose_id" uuid,
  "product_theme_id" uuid,
  "product_background_id" uuid,
  "ai_face_id" uuid,
  "prompt" text,
  "image_url" character varying(500),
  "thumbnail_url" character varying(500),
  "generation_status" "generated_images_generation_status_enum" not null default 'pending',
  "error_message" text,
  "credits_used" integer not null default 1,
  "expires_at" timestamp with time zone,
  "created_at" timestamp with time zone not null default now(),
  "updated_at" timestamp with time zone not null default now(),
  "deleted_at" timestamp with time zone,
  constraint "PK_5d6c7a1b2c3d4e5f6a7b8c9d0e1" primary key ("id")
);
create index "IDX_generated_images_user_id_generation_status" on "generated_images" ("user_id", "generation_status")
  where user_id is not null;
create index "IDX_generated_images_expires_at" on "generated_images" ("expires_at") where deleted_at is null;

create table "legal_documents" (
  "id" uuid not null default gen_random_uuid(),
  "type" "legal_documents_type_enum" not null,
  "version" character varying(20) not null,
  "title" character varying(255) not null,
  "content" text not null,
  "is_active" boolean not null default false,
  "published_at" timestamp with time zone,
  "created_at" timestamp with time zone not null default now(),
  "updated_at" timestamp with time zone not null default now(),
  "deleted_at" timestamp with time zone,
  constraint "PK_7b8c9d0e1f2a3b4c5d6e7f8a9b0" primary key ("id")
);

-- @ManyToMany @JoinTable junction tables: composite primary key, an index per side, cascading FKs
create table "product_type_themes" (
  "product_type_id" uuid not null,
  "theme_id" uuid not null,
  constraint "PK_product_type_themes" primary key ("product_type_id", "theme_id")
);
create index "IDX_product_type_themes_product_type_id" on "product_type_themes" ("product_type_id");
create index "IDX_product_type_themes_theme_id" on "product_type_themes" ("theme_id");

create table "product_theme_backgrounds" (
  "product_theme_id" uuid not null,
  "product_background_id" uuid not null,
  constraint "PK_product_theme_backgrounds" primary key ("product_theme_id", "product_background_id")
);
create index "IDX_product_theme_backgrounds_product_theme_id" on "product_theme_backgrounds" ("product_theme_id");
create index "IDX_product_theme_backgrounds_product_background_id" on "product_theme_backgrounds" ("product_background_id");

create table "product_pose_backgrounds" (
  "product_pose_id" uuid not null,
  "product_background_id" uuid not null,
  constraint "PK_product_pose_backgrounds" primary key ("product_pose_id", "product_background_id")
);
create index "IDX_product_pose_backgrounds_product_pose_id" on "product_pose_backgrounds" ("product_pose_id");
create index "IDX_product_pose_backgrounds_product_background_id" on "product_pose_backgrounds" ("product_background_id");

-- the relations TypeORM does declare (@ManyToOne with onDelete)
alter table "user_addresses" add constraint "FK_7a5100ce0548ef27a6f1533a5ce"
  foreign key ("user_id") references "users" ("id") on delete cascade;
alter table "credit_transactions" add constraint "FK_b9a4a3e2b1c0d9e8f7a6b5c4d3e"
  foreign key ("user_id") references "users" ("id");
alter table "product_types" add constraint "FK_0d1c2b3a4f5e6d7c8b9a0f1e2d3"
  foreign key ("category_id") references "categories" ("id") on delete cascade;
alter table "product_poses" add constraint "FK_1e2d3c4b5a6f7e8d9c0b1a2f3e4"
  foreign key ("product_type_id") references "product_types" ("id") on delete cascade;
alter table "ai_faces" add constraint "FK_2f3e4d5c6b7a8f9e0d1c2b3a4f5"
  foreign key ("category_id") references "categories" ("id") on delete cascade;
alter table "product_type_themes" add constraint "FK_product_type_themes_product_type_id"
  foreign key ("product_type_id") references "product_types" ("id") on delete cascade;
alter table "product_type_themes" add constraint "FK_product_type_themes_theme_id"
  foreign key ("theme_id") references "product_themes" ("id") on delete cascade;
alter table "product_theme_backgrounds" add constraint "FK_product_theme_backgrounds_product_theme_id"
  foreign key ("product_theme_id") references "product_themes" ("id") on delete cascade;
alter table "product_theme_backgrounds" add constraint "FK_product_theme_backgrounds_product_background_id"
  foreign key ("product_background_id") references "product_backgrounds" ("id") on delete cascade;
alter table "product_pose_backgrounds" add constraint "FK_product_pose_backgrounds_product_pose_id"
  foreign key ("product_pose_id") references "product_poses" ("id") on delete cascade;
alter table "product_pose_backgrounds" add constraint "FK_product_pose_backgrounds_product_background_id"
  foreign key ("product_background_id") references "product_backgrounds" ("id") on delete cascade;
