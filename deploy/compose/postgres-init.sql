-- One database per service (each service owns its schema; `<service> migrate` fills it).
CREATE DATABASE catalog;
CREATE DATABASE orders;
CREATE DATABASE returns;
CREATE DATABASE billing;
CREATE DATABASE notify;
