-- "Pixelforge": a small image-generation SaaS, the kind of application the review describes.
-- Loaded by `pgaudit demo` into a throwaway server. Defects are deliberate; each is one a
-- senior reviewer would raise. Data is generated so that statistics-based checks have numbers.

create type user_role as enum ('user', 'admin');
create type generation_status as enum ('pending', 'processing', 'completed', 'failed');
create type credit_operation as enum ('purchase', 'generation', 'refund', 'bonus');

create table users (
    id uuid primary key default gen_random_uuid(),
    email varchar(255) not null unique,
    first_name varchar(100),
    last_name varchar(100),
    phone varchar(40),
    password_hash varchar(255) not null,
    refresh_token varchar(255),                 -- stored as issued: not hashed
    password_reset_token varchar(255),          -- stored as issued: not hashed
    role user_role not null default 'user',
    credits integer not null default 0,         -- hot row, no CHECK (credits >= 0)
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    deleted_at timestamptz
);

create table user_addresses (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references users (id) on delete cascade,
    line1 varchar(255) not null,
    city varchar(100) not null,
    postal_code varchar(20),
    country char(2) not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    deleted_at timestamptz
);
create index idx_user_addresses_user_id on user_addresses (user_id);

create table user_businesses (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null unique,                -- no FK constraint
    business_name varchar(200) not null,
    business_description text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    deleted_at timestamptz
);

create table categories (
    id uuid primary key default gen_random_uuid(),
    name varchar(100) not null unique,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    deleted_at timestamptz
);

create table product_types (
    id uuid primary key default gen_random_uuid(),
    category_id uuid not null references categories (id) on delete cascade,
    name varchar(100) not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    deleted_at timestamptz
);

create table generated_images (
    id uuid primary key default gen_random_uuid(),
    user_id uuid,                                -- no FK constraint
    category_id uuid,                            -- no FK constraint
    product_type_id uuid,                        -- no FK constraint
    prompt text not null,
    settings json,                               -- json, not jsonb
    status generation_status not null default 'pending',
    image_url text,
    expires_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    deleted_at timestamptz
);
create index idx_generated_images_status on generated_images (status);
create index idx_generated_images_status_dup on generated_images (status);

create table credit_transactions (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references users (id) on delete cascade,  -- erases the ledger
    operation credit_operation not null,
    amount integer not null,
    balance_before integer not null,
    balance_after integer not null,
    created_at timestamptz not null default now()
);

create table otps (
    id serial primary key,
    email varchar(255) not null,
    otp_hash varchar(255) not null,
    expires_at timestamp not null,               -- without time zone
    created_at timestamp not null default now()
);

create table contact_forms (
    id uuid primary key default gen_random_uuid(),
    name varchar(200) not null,
    email varchar(255),
    phone varchar(40),
    message text not null,
    ip_address varchar(45),
    user_agent text,
    read_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    deleted_at timestamptz
);

create table "AuditEvents" (                     -- mixed-case name, no primary key
    "eventType" text,
    payload jsonb,
    created_at timestamptz default now()
);

-- Data, so that sizes and statistics mean something.
insert into users (email, first_name, last_name, password_hash, refresh_token, credits)
select format('user%s@example.com', g), 'First' || g, 'Last' || g,
       '$2b$12$' || md5(g::text) || md5((g * 7)::text),
       'rt_' || substr(md5(random()::text), 1, 24), (g % 50)
from generate_series(1, 2000) g;

insert into categories (name) select 'category ' || g from generate_series(1, 12) g;
insert into product_types (category_id, name)
select c.id, c.name || ' type ' || g from categories c, generate_series(1, 5) g;

insert into generated_images (user_id, category_id, product_type_id, prompt, settings, status,
                              created_at, expires_at)
select u.ids[1 + g % 2000], pt.cats[1 + g % 60], pt.ids[1 + g % 60],
       'a product photo, variant ' || g, '{"steps": 30}'::json, 'completed',
       now() - (g % 500) * interval '1 day', now() - (g % 400) * interval '1 day'
from generate_series(1, 60000) g,
     (select array_agg(id order by email) as ids from users) u,
     (select array_agg(id order by name) as ids, array_agg(category_id order by name) as cats
      from product_types) pt;

insert into credit_transactions (user_id, operation, amount, balance_before, balance_after,
                                 created_at)
select u.ids[1 + g % 2000], 'generation', -1, 10, 9, now() - (g % 700) * interval '1 day'
from generate_series(1, 40000) g, (select array_agg(id order by email) as ids from users) u;

insert into otps (email, otp_hash, expires_at, created_at)
select format('user%s@example.com', g % 2000), md5(g::text),
       now() - (g % 90) * interval '1 day', now() - (g % 90) * interval '1 day' - interval '10 minutes'
from generate_series(1, 20000) g;

update users set credits = credits + 1 where email like 'user1%';
update users set credits = credits - 1 where email like 'user1%';
