-- enum_usage: an enum that grew after creation (labels added later) and a 22-label enum
create type public.s1_delivery_state as enum ('pending', 'shipped');
create table public.s1_deliveries (id bigint generated always as identity primary key, state public.s1_delivery_state not null);
alter type public.s1_delivery_state add value 'returned' before 'shipped';
create type public.s1_region as enum ('r01','r02','r03','r04','r05','r06','r07','r08','r09','r10','r11',
  'r12','r13','r14','r15','r16','r17','r18','r19','r20','r21','r22');
create table public.s1_stores (id bigint generated always as identity primary key, region public.s1_region not null);
