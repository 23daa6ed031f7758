# The Vagrant lab's layout: machine names, addresses, pod subnets and the arguments each
# provisioning script gets, all derived from BOSUN_MINIONS. Plain Ruby that needs nothing of
# Vagrant, so the tests can print it:  ruby -I vagrant -r lab -r json -e 'puts BosunLab.plan(ENV).to_json'
#
#   master      192.168.56.10
#   minion-i    192.168.56.(10+i), pod subnet 10.244.i.0/24 (docker0 at 10.244.i.1)
module BosunLab
  MAX_MINIONS = 9
  DEFAULT_MINIONS = 2
  NETWORK = "192.168.56"
  BOX = "debian/bookworm64"
  # The folder shared read-write by every machine: the master's SSH key pair (written by the
  # master, read by the minions) and known_hosts (appended to by each minion). On the host it is
  # .vagrant-bosun/ at the repository root (git-ignored).
  SHARED_HOST = "../.vagrant-bosun"
  SHARED_GUEST = "/bosun-shared"
  # The repository, copied to the master (rsync) so its .venv lives on the master's own disk.
  REPO_GUEST = "/bosun"

  Machine = Struct.new(:name, :address, :pod_cidr, keyword_init: true)

  # Number of minions from env["BOSUN_MINIONS"]. Raises ArgumentError with a message for people.
  def self.minion_count(env)
    raw = env.fetch("BOSUN_MINIONS", DEFAULT_MINIONS.to_s)
    unless raw.match?(/\A[1-9]\z/)
      raise ArgumentError, "BOSUN_MINIONS must be a whole number from 1 to #{MAX_MINIONS} " \
                           "(the number of minions; default #{DEFAULT_MINIONS}), not #{raw.inspect}"
    end
    Integer(raw)
  end

  def self.master
    Machine.new(name: "master", address: "#{NETWORK}.10")
  end

  def self.minions(count)
    (1..count).map do |i|
      Machine.new(name: "minion-#{i}", address: "#{NETWORK}.#{10 + i}", pod_cidr: "10.244.#{i}.0/24")
    end
  end

  # vagrant/provision/master.sh: where things are, then every machine of the lab.
  def self.master_args(minions)
    args = ["--repo", REPO_GUEST, "--shared", SHARED_GUEST, "--master", master.name, master.address]
    minions.each { |m| args += ["--minion", m.name, m.address, m.pod_cidr] }
    args
  end

  # vagrant/provision/minion.sh: this minion, then every other minion's address and pod subnet.
  def self.minion_args(minion, minions)
    args = ["--shared", SHARED_GUEST, minion.name, minion.address, minion.pod_cidr]
    minions.reject { |m| m.name == minion.name }.each { |m| args += ["--peer", m.address, m.pod_cidr] }
    args
  end

  # Everything above for one BOSUN_MINIONS, as plain data (what the tests compare).
  def self.plan(env)
    all = minions(minion_count(env))
    {
      "box" => BOX,
      "master" => master.to_h.merge(provision_args: master_args(all)),
      "minions" => all.map { |m| m.to_h.merge(provision_args: minion_args(m, all)) },
    }
  end
end
