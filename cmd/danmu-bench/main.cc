// danmuctl: the operator's command line for a danmu-ha deployment.
int main() { return 0; }
